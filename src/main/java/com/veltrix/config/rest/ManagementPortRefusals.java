package com.veltrix.config.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.context.annotation.Bean;

/**
 * The management port's Tomcat refuses what the API's refuses (an encoded {@code /}, a character a
 * URL must encode, headers too large) with the same problem detail instead of Tomcat's HTML page.
 *
 * <p>Actuator runs in a context of its own on that port, whose web server is customised only by
 * that context's beans; Spring Boot imports this class there (listed in {@code
 * META-INF/spring/...ManagementContextConfiguration.imports}), and the application's component scan
 * leaves it out ({@code VeltrixConfigApplication}).
 */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
class ManagementPortRefusals {

  @Bean
  RefusedBeforeRouting managementPortRefusedBeforeRouting(ObjectMapper json) {
    return new RefusedBeforeRouting(json);
  }
}
