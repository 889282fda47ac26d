package com.veltrix.config.grpc;

import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The whole service with its real Netty gRPC server on a free port, and a client channel to it. */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "management.server.port=0",
      "veltrix.grpc.manifest-chunk=7",
      "veltrix.grpc.watch-progress-interval=300ms",
      "veltrix.grpc.health-interval=100ms",
      "veltrix.readiness.stable-for=0s",
      "veltrix.readiness.probe-interval=100ms"
    })
abstract class GrpcTestBase {

  /** Each concrete test names its database ({@link TestDatabase} or {@code Cockroach}). */
  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    FreePort.register(registry, "grpc.server.port"); // one port per context
  }

  @LocalServerPort int restPort;

  @Value("${grpc.server.port}")
  int grpcPort;

  @Autowired JdbcClient jdbc;
  ManagedChannel channel;
  ConfigServiceGrpc.ConfigServiceBlockingStub blocking;
  ConfigServiceGrpc.ConfigServiceStub async;
  Http http;

  @BeforeEach
  void connect() {
    TestDatabase.reset(jdbc);
    channel = channel();
    blocking =
        ConfigServiceGrpc.newBlockingStub(channel)
            .withCallCredentials(Tokens.bearer(Tokens.admin()));
    async = ConfigServiceGrpc.newStub(channel).withCallCredentials(Tokens.bearer(Tokens.admin()));
    http = new Http(restPort);
  }

  ManagedChannel channel() {
    return ManagedChannelBuilder.forAddress("localhost", grpcPort).usePlaintext().build();
  }

  @AfterEach
  void disconnect() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
