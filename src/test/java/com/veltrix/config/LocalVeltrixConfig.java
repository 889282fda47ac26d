package com.veltrix.config;

import com.veltrix.config.support.EmbeddedDatabases;
import com.veltrix.config.support.Tokens;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import org.springframework.boot.SpringApplication;

/**
 * The quick start: {@code ./mvnw spring-boot:test-run}. Without {@code SPRING_DATASOURCE_URL} it
 * starts a real embedded PostgreSQL (zonky) whose data stays in {@code .veltrix/pgdata} between
 * runs, then the service against it, with the Spring profile {@code local} (development: an HS256
 * key, generated here unless one is configured, is accepted). It lives in the test tree so the
 * production jar never contains the embedded database.
 */
public final class LocalVeltrixConfig {

  private LocalVeltrixConfig() {}

  public static void main(String[] args) throws IOException {
    if (!configured("SPRING_DATASOURCE_URL", "spring.datasource.url")) {
      Path data = Path.of(System.getProperty("veltrix.local.data-dir", ".veltrix/pgdata"));
      Files.createDirectories(data);
      EmbeddedPostgres postgres =
          EmbeddedDatabases.builder()
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
    if (!configured("VELTRIX_SECURITY_JWT_HMAC_SECRET", "veltrix.security.jwt.hmac-secret")
        && !configured(
            "SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_ISSUER_URI",
            "spring.security.oauth2.resourceserver.jwt.issuer-uri")) {
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      String secret = HexFormat.of().formatHex(key);
      System.setProperty("veltrix.security.jwt.hmac-secret", secret);
      String token =
          Tokens.mint("quickstart-admin", Tokens.ALL_SCOPES, Duration.ofHours(12), secret);
      System.out.printf(
          "%nDevelopment HS256 key generated for this run. An admin token (all scopes, 12 h):%n"
              + "  export TOKEN=%s%n  curl -H \"Authorization: Bearer $TOKEN\""
              + " http://localhost:8080/api/v1/revision%n%n",
          token);
    }
    SpringApplication application = new SpringApplication(VeltrixConfigApplication.class);
    application.setAdditionalProfiles("local"); // development: the HS256 key is accepted
    application.run(args);
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
