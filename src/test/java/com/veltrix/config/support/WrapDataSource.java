package com.veltrix.config.support;

import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.springframework.beans.factory.config.BeanPostProcessor;

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
}
