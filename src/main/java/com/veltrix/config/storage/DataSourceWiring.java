package com.veltrix.config.storage;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.util.DriverDataSource;
import java.time.Duration;
import java.util.Properties;
import javax.sql.DataSource;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Fits the connection pool for failures: physical connections are opened through a {@link
 * ReconnectingDataSource} (prompt reconnects after a leader transition) with the server-side
 * session bounds of {@link DatabaseProperties}, and everything that uses the pool gets it through a
 * {@link DeadlineDataSource} (no query outlives its call's deadline) and a {@link PoolQueue} (calls
 * queue for a connection in this pod, not in HikariCP).
 */
@Component
class DataSourceWiring implements BeanPostProcessor, EnvironmentAware {

  /** How long the pool keeps retrying a refused connection at a 10 ms pace. */
  static final Duration RECONNECT_WINDOW = Duration.ofSeconds(1);

  private DatabaseProperties database;

  @Override
  public void setEnvironment(Environment environment) {
    // a BeanPostProcessor is created before configuration-properties beans: bind directly
    this.database =
        Binder.get(environment).bindOrCreate("veltrix.database", DatabaseProperties.class);
  }

  @Override
  public Object postProcessBeforeInitialization(Object bean, String beanName) {
    if (bean instanceof HikariDataSource hikari
        && hikari.getDataSource() == null
        && hikari.getJdbcUrl() != null) {
      Properties properties =
          Connections.withSessionBounds(hikari.getDataSourceProperties(), database);
      // the statements of a call short of time are cancelled at its deadline (DeadlineDataSource)
      // from pgjdbc's one shared timer thread: a cancel to a database that stopped answering must
      // not block that thread for pgjdbc's default 10 s
      properties.putIfAbsent("cancelSignalTimeout", "1");
      hikari.setDataSource(
          new ReconnectingDataSource(
              new DriverDataSource(
                  hikari.getJdbcUrl(),
                  hikari.getDriverClassName(),
                  properties,
                  hikari.getUsername(),
                  hikari.getPassword()),
              RECONNECT_WINDOW));
      hikari.setDataSourceProperties(new Properties()); // now the driver's, not the wrapper's
    }
    return bean;
  }

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) {
    if (bean instanceof HikariDataSource pool) {
      return new DeadlineDataSource(new PoolQueue(pool), database.lockTimeout());
    }
    if (bean instanceof DataSource dataSource && !(bean instanceof DeadlineDataSource)) {
      return new DeadlineDataSource(dataSource, database.lockTimeout());
    }
    return bean;
  }
}
