package com.veltrix.config;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** veltrix-config: the authoritative store of a game's treasure-hunt configuration. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class VeltrixConfigApplication {

  public static void main(String[] args) {
    SpringApplication.run(VeltrixConfigApplication.class, args);
  }
}
