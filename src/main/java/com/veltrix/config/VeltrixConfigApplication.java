package com.veltrix.config;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurationExcludeFilter;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.context.TypeExcludeFilter;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.FilterType;

/**
 * veltrix-config: the authoritative store of a game's treasure-hunt configuration.
 *
 * <p>{@code @SpringBootApplication} spelt out, for one more exclusion from the scan: classes for
 * Actuator's own context ({@code @ManagementContextConfiguration}), which Spring Boot imports into
 * that context and which must not also land in this one.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@ComponentScan(
    excludeFilters = {
      @ComponentScan.Filter(type = FilterType.CUSTOM, classes = TypeExcludeFilter.class),
      @ComponentScan.Filter(
          type = FilterType.CUSTOM,
          classes = AutoConfigurationExcludeFilter.class),
      @ComponentScan.Filter(
          type = FilterType.ANNOTATION,
          classes = ManagementContextConfiguration.class)
    })
@ConfigurationPropertiesScan
public class VeltrixConfigApplication {

  public static void main(String[] args) {
    SpringApplication.run(VeltrixConfigApplication.class, args);
  }
}
