package com.veltrix.config.catalog.payload;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.veltrix.config.catalog.Violation;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CanonicalJsonTest {

  static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  static JsonNode parse(String json) throws Exception {
    return JSON.readTree(json);
  }

  @Test
  void sortsMembersAndDropsWhitespace() throws Exception {
    CanonicalJson.Result r =
        CanonicalJson.write(parse("{ \"b\": [1, {\"z\":1,\"a\":2}], \"a\": null }"), 32);

    assertThat(r.violations()).isEmpty();
    assertThat(r.text()).isEqualTo("{\"a\":null,\"b\":[1,{\"a\":2,\"z\":1}]}");
  }

  @ParameterizedTest
  @CsvSource({
    "1.0, 1",
    "1e2, 100",
    "0.10, 0.1",
    "-0.0, 0",
    "-0, 0",
    "1e400, 1E+400",
    "1.5e-30, 1.5E-30",
    "123456789012345678901234, 123456789012345678901234",
    "12e30, 1.2E+31",
    "0.000001, 0.000001"
  })
  void writesNumbersInOneNormalForm(String in, String out) {
    assertThat(CanonicalJson.number(new BigDecimal(in))).isEqualTo(out);
  }

  @Test
  void equalContentHasEqualHashes() throws Exception {
    String a = CanonicalJson.write(parse("{\"x\": 1.0, \"y\": \"é\"}"), 32).text();
    String b = CanonicalJson.write(parse("{\"y\":\"\\u00e9\",\"x\":1}"), 32).text();

    assertThat(CanonicalJson.sha256(a)).isEqualTo(CanonicalJson.sha256(b));
    assertThat(CanonicalJson.sha256("{}"))
        .isEqualTo("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  }

  @Test
  void refusesNulUnpairedSurrogatesAndExcessiveDepthWithPointers() throws Exception {
    assertThat(CanonicalJson.write(parse("{\"a\":[\"x\\u0000\"]}"), 32).violations())
        .extracting(Violation::pointer)
        .containsExactly("/a/0");
    assertThat(CanonicalJson.write(parse("{\"a/b\":\"\\ud800\"}"), 32).violations())
        .extracting(Violation::pointer)
        .containsExactly("/a~1b");
    assertThat(CanonicalJson.write(parse("{\"a\":{\"b\":{\"c\":{}}}}"), 3).violations())
        .extracting(Violation::pointer)
        .containsExactly("/a/b/c");
    assertThat(CanonicalJson.write(parse("{\"a\":{\"b\":{\"c\":1}}}"), 3).violations()).isEmpty();
  }
}
