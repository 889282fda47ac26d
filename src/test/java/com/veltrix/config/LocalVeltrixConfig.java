package com.veltrix.config;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.boot.SpringApplication;

/**
 * The quick start: {@code ./mvnw spring-boot:test-run}. Without {@code SPRING_DATASOURCE_URL} it
 * starts a real embedded PostgreSQL (zonky) whose data stays in {@code .veltrix/pgdata} between
 * runs, then the service against it. It lives in the test tree so the production jar never contains
 * the embedded database.
 */
public final class LocalVeltrixConfig {

  private LocalVeltrixConfig() {}

  public static void main(String[] args) throws IOException {
    if (!configured("SPRING_DATASOURCE_URL", "spring.datasource.url")) {
      Path data = Path.of(System.getProperty("veltrix.local.data-dir", ".veltrix/pgdata"));
      Files.createDirectories(data);
      EmbeddedPostgres postgres =
          EmbeddedPostgres.builder()
              .setDataDirectory(data)
              .setCleanDataDirectory(false)
              .setServerConfig("max_connections", "100")
              .start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> close(postgres)));
      System.setProperty("spring.datasource.url", postgres.getJdbcUrl("postgres", "postgres"));
      System.setProperty("spring.datasource.username", "postgres");
      System.setProperty("spring.datasource.password", "");
      System.out.printf(
          "Embedded PostgreSQL on port %d, data in %s%n",
          postgres.getPort(), data.toAbsolutePath());
    }
    SpringApplication.run(VeltrixConfigApplication.class, args);
  }

  private static boolean configured(String env, String property) {
    return System.getenv(env) != null || System.getProperty(property) != null;
  }

  private static void close(EmbeddedPostgres postgres) {
    try {
      postgres.close();
    } catch (IOException e) {
      System.err.println("could not stop the embedded PostgreSQL: " + e);
    }
  }
}
