package com.veltrix.config.storage;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.stereotype.Component;

/**
 * Binds the {@link PoolQueue} inside this context's data source to this context's registry (Spring
 * Boot binds every {@link MeterBinder} bean). The queue is made in {@link DataSourceWiring}, a bean
 * post-processor, which is created before any registry exists.
 */
@Component
class PoolQueueMeters implements MeterBinder {

  private final DataSource dataSource;

  PoolQueueMeters(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  @Override
  public void bindTo(MeterRegistry meters) {
    try {
      if (dataSource.isWrapperFor(PoolQueue.class)) {
        dataSource.unwrap(PoolQueue.class).bindTo(meters);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("the data source would not say whether it queues", e);
    }
  }
}
