package com.veltrix.config;

import net.devh.boot.grpc.server.event.GrpcServerStartedEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.context.WebServerInitializedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/** Logs where REST, management (Actuator) and gRPC listen, once each is up. */
@Component
class ListenAddresses {

  private static final Logger log = LoggerFactory.getLogger(ListenAddresses.class);

  @EventListener
  void web(WebServerInitializedEvent event) {
    String namespace = event.getApplicationContext().getServerNamespace();
    int port = event.getWebServer().getPort();
    if ("management".equals(namespace)) {
      log.info("Management (Actuator) listening on http://localhost:{}/actuator", port);
    } else {
      log.info(
          "REST API listening on http://localhost:{}/api/v1 (OpenAPI UI at /swagger-ui.html)",
          port);
    }
  }

  @EventListener
  void grpc(GrpcServerStartedEvent event) {
    log.info("gRPC listening on {}:{}", event.getAddress(), event.getPort());
  }
}
