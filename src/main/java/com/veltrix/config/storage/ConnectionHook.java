package com.veltrix.config.storage;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;

/**
 * Sees every call on a connection handed out: {@link DeadlineDataSource} gives statements a query
 * timeout, {@link PoolQueue} gives its permit back at {@code close}. The connection is put behind a
 * JDK proxy whose {@code equals} and {@code hashCode} are its own identity's.
 */
@FunctionalInterface
interface ConnectionHook {

  /**
   * One call; {@link #invoke} runs it on {@code target}, the real connection (no object is made per
   * call: this is on every statement's path).
   */
  Object handle(Method method, Object[] args, Connection target) throws Throwable;

  /**
   * {@code target} behind a proxy whose every call but equals and hashCode goes through {@code
   * hook}.
   */
  static Connection around(Connection target, ConnectionHook hook) {
    return (Connection)
        Proxy.newProxyInstance(
            ConnectionHook.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "equals" -> proxy == args[0];
                  case "hashCode" -> System.identityHashCode(proxy);
                  default -> hook.handle(method, args, target);
                });
  }

  /** {@code method} on {@code target}, throwing what it threw. */
  static Object invoke(Connection target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
