package com.veltrix.config.storage;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.util.DriverDataSource;
import java.time.Duration;
import java.util.Properties;
import javax.sql.DataSource;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.stereotype.Component;

/**
 * Fits the connection pool for failures: physical connections are opened through a {@link
 * ReconnectingDataSource} (prompt reconnects after a leader transition), and everything that uses
 * the pool gets it through a {@link DeadlineDataSource} (no query outlives its call's deadline).
 */
@Component
class DataSourceWiring implements BeanPostProcessor {

  /** How long the pool keeps retrying a refused connection at a 10 ms pace. */
  static final Duration RECONNECT_WINDOW = Duration.ofSeconds(1);

  @Override
  public Object postProcessBeforeInitialization(Object bean, String beanName) {
    if (bean instanceof HikariDataSource hikari
        && hikari.getDataSource() == null
        && hikari.getJdbcUrl() != null) {
      Properties properties = new Properties();
      properties.putAll(hikari.getDataSourceProperties());
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
    if (bean instanceof DataSource dataSource && !(bean instanceof DeadlineDataSource)) {
      return new DeadlineDataSource(dataSource);
    }
    return bean;
  }
}
