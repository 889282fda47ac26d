package com.veltrix.config.support;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/** Wraps the application's {@code dataSource} bean, for tests that watch or disturb its calls. */
public final class WrapDataSource {

  private WrapDataSource() {}

  /** A post-processor (declare it from a static {@code @Bean} method) that applies {@code wrap}. */
  public static BeanPostProcessor with(UnaryOperator<DataSource> wrap) {
    return new BeanPostProcessor() {
      @Override
      public Object postProcessAfterInitialization(Object bean, String name) {
        return bean instanceof DataSource ds && name.equals("dataSource") ? wrap.apply(ds) : bean;
      }
    };
  }

  /**
   * A post-processor that passes every call on every connection handed out through {@code hook}.
   */
  public static BeanPostProcessor connections(Hook hook) {
    return with(
        target ->
            new DelegatingDataSource(target) {
              @Override
              public Connection getConnection() throws SQLException {
                return around(Connection.class, super.getConnection(), hook);
              }
            });
  }

  /**
   * {@code target} behind a proxy of the interface {@code type} (a JDBC object, or any other
   * interface a test disturbs) whose every call goes through {@code hook}.
   */
  public static <T> T around(Class<T> type, T target, Hook hook) {
    return type.cast(
        Proxy.newProxyInstance(
            type.getClassLoader(),
            new Class<?>[] {type},
            (proxy, method, args) ->
                hook.handle(method, args, () -> invoke(target, method, args))));
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** Sees one call of a proxied JDBC object; runs it with {@link Call#proceed()}, or not. */
  @FunctionalInterface
  public interface Hook {
    Object handle(Method method, Object[] args, Call call) throws Throwable;
  }

  /** The call itself, on the real object. */
  @FunctionalInterface
  public interface Call {
    Object proceed() throws Throwable;
  }
}
