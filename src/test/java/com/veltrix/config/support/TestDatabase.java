package com.veltrix.config.support;

import com.zaxxer.hikari.util.DriverDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.util.Properties;
import javax.sql.DataSource;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * One real PostgreSQL per test JVM (embedded, started on first use, stopped when the JVM exits).
 * Every Spring test context points at it; tests reset the data in {@code @BeforeEach}.
 */
public final class TestDatabase {

  private static EmbeddedPostgres postgres;

  private TestDatabase() {}

  public static synchronized EmbeddedPostgres postgres() {
    if (postgres == null) {
      try {
        postgres = EmbeddedDatabases.builder().setServerConfig("max_connections", "200").start();
      } catch (IOException e) {
        throw new UncheckedIOException("could not start the embedded PostgreSQL", e);
      }
      EmbeddedPostgres started = postgres;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      started.close();
                    } catch (IOException e) {
                      // the JVM is exiting anyway
                    }
                  }));
    }
    return postgres;
  }

  public static String jdbcUrl() {
    return postgres().getJdbcUrl("postgres", "postgres");
  }

  /**
   * The embedded PostgreSQL without a pool, opened as the service's pool opens its database
   * (HikariCP's {@code DriverDataSource}): for tests that put a pool of their own over it.
   */
  public static DataSource unpooled() {
    return new DriverDataSource(jdbcUrl(), null, new Properties(), "postgres", null);
  }

  /**
   * A database of its own in the embedded PostgreSQL, {@code name}, dropped and created empty: for
   * a test whose service must not share its rows (or its revision) with the other tests. Its URL.
   */
  public static String fresh(String name) {
    JdbcClient admin = JdbcClient.create(unpooled());
    admin.sql("DROP DATABASE IF EXISTS " + name).update();
    admin.sql("CREATE DATABASE " + name).update();
    return url(name);
  }

  /** The URL of the database {@code name} in the embedded PostgreSQL. */
  public static String url(String name) {
    return jdbcUrl().replace("/postgres?", "/" + name + "?");
  }

  /** Points a Spring test context at the embedded PostgreSQL. */
  public static void register(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", TestDatabase::jdbcUrl);
    registry.add("spring.datasource.username", () -> "postgres");
    registry.add("spring.datasource.password", () -> "");
  }

  /**
   * Empties every table and sets the revision back to 0. TRUNCATE needs every table to itself: a
   * retention pass of another cached test context can hold a row lock past the pool's 200 ms
   * lock_timeout, so a timed-out TRUNCATE (55P03) is tried again.
   */
  public static void reset(JdbcClient jdbc) {
    for (int attempt = 1; ; attempt++) {
      try {
        jdbc.sql(
                "TRUNCATE document_versions, documents, document_references, idempotency_records,"
                    + " revision_times, schedules")
            .update();
        break;
      } catch (DataAccessException e) {
        if (attempt == 50 || !lockTimeout(e)) {
          throw e;
        }
      }
    }
    jdbc.sql("UPDATE revision_counter SET revision = 0 WHERE id = 1").update();
    jdbc.sql("UPDATE history_horizon SET revision = 0, pruned_through = 0 WHERE id = 1").update();
  }

  private static boolean lockTimeout(DataAccessException e) {
    return e.getMostSpecificCause() instanceof SQLException sql
        && "55P03".equals(sql.getSQLState());
  }
}
