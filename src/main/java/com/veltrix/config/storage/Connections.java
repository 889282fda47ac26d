package com.veltrix.config.storage;

import com.zaxxer.hikari.util.DriverDataSource;
import java.time.Duration;
import java.util.Properties;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.jdbc.DataSourceProperties;

/**
 * Unpooled data sources for the two callers that must not share the pool: the readiness probe (a
 * busy pool is not a database outage) and the migrations (a hung DDL must not hold a pooled
 * connection, and needs a socket timeout of its own). Both open sessions with the same server-side
 * bounds as the pool.
 */
final class Connections {

  private Connections() {}

  /**
   * The server version pgjdbc may assume before it has connected. With it, pgjdbc sends {@code
   * application_name} in the startup message instead of a {@code SET} after authentication: one
   * round trip less for every new connection (140 ms to 99 ms through the fault proxy at 20 ms each
   * way). PostgreSQL 10 and later and CockroachDB (which reports PostgreSQL 13) take it there.
   */
  static final String ASSUME_MIN_SERVER_VERSION = "10";

  /**
   * pgjdbc properties: the session bounds merged into any {@code options} already configured, and
   * {@link #ASSUME_MIN_SERVER_VERSION} unless one is configured.
   */
  static Properties withSessionBounds(Properties configured, DatabaseProperties database) {
    return withOptions(configured, database.sessionOptions());
  }

  private static Properties withOptions(Properties configured, String bounds) {
    Properties properties = new Properties();
    properties.putAll(configured);
    properties.putIfAbsent("assumeMinServerVersion", ASSUME_MIN_SERVER_VERSION);
    String options = properties.getProperty("options");
    properties.setProperty(
        "options", options == null || options.isBlank() ? bounds : bounds + " " + options);
    return properties;
  }

  /** For the readiness probe: the request sessions' bounds. */
  static DataSource forProbe(
      DataSourceProperties source, DatabaseProperties database, Duration connectTimeout) {
    return unpooled(source, database.sessionOptions(), connectTimeout, Duration.ofMinutes(1));
  }

  /** For the migrations: the migration session's bounds and its socket timeout. */
  static DataSource forMigrations(DataSourceProperties source, DatabaseProperties database) {
    return unpooled(
        source, database.migrationOptions(), Duration.ofSeconds(2), database.migrationTimeout());
  }

  private static DataSource unpooled(
      DataSourceProperties source, String bounds, Duration connectTimeout, Duration socketTimeout) {
    Properties properties = withOptions(new Properties(), bounds);
    long connectSeconds = Math.max(1, (connectTimeout.toMillis() + 999) / 1000);
    properties.setProperty("connectTimeout", Long.toString(connectSeconds));
    properties.setProperty("loginTimeout", Long.toString(connectSeconds));
    properties.setProperty("socketTimeout", Long.toString(Math.max(1, socketTimeout.toSeconds())));
    properties.setProperty("tcpKeepAlive", "true");
    return new DriverDataSource(
        source.determineUrl(),
        source.determineDriverClassName(),
        properties,
        source.determineUsername(),
        source.determinePassword());
  }
}
