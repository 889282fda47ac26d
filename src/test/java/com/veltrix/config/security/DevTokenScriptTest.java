package com.veltrix.config.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.support.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.jwt.Jwt;

/** The README's token script mints tokens the service's own decoder accepts. */
class DevTokenScriptTest {

  @Test
  void scriptTokensPassTheServicesDecoder() throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(
                "bash", "scripts/dev-token.sh", Tokens.SECRET, "alice", "configs:read", "1")
            .redirectErrorStream(true)
            .start();
    assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    String token =
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(process.exitValue()).as(token).isZero();

    Jwt jwt = JwtDecodersTest.hmac(Tokens.SECRET).decode(token);

    assertThat(jwt.getSubject()).isEqualTo("alice");
    assertThat(jwt.getClaimAsString("scope")).isEqualTo("configs:read");
  }

  @Test
  void refusesSecretsShorterThan32Bytes() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> JwtDecodersTest.hmac("short"))
        .hasMessageContaining("at least 32 bytes");
  }
}
