package com.veltrix.config.catalog.payload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.veltrix.config.catalog.Violation;
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
    "1.5e-30, 1.5e-30",
    "12e30, 1.2e+31",
    "0.000001, 0.000001",
    "1e21, 1e+21",
    "1e-7, 1e-7",
    "100000000000000000000, 100000000000000000000",
    "4.50, 4.5",
    "2e-3, 0.002",
    "0.000000000000000000000000001, 1e-27",
    "9007199254740992, 9007199254740992",
    "-9007199254740992, -9007199254740992",
    "-12, -12",
    "1000000000000000000000, 1e+21"
  })
  void writesNumbersAsRfc8785Does(String in, String out) throws Exception {
    CanonicalJson.Result r = CanonicalJson.write(parse("[" + in + "]"), 32);

    assertThat(r.violations()).isEmpty();
    assertThat(r.text()).isEqualTo("[" + out + "]");
  }

  @ParameterizedTest
  @CsvSource({
    "1e400, outside the range",
    "-1e309, outside the range",
    "9007199254740993, more precision",
    "-9007199254740993, more precision",
    "-9223372036854775808, more precision",
    "123456789012345678901234, more precision",
    "0.1000000000000000055511151231257827, more precision"
  })
  void refusesNumbersADoubleCannotCarryAsWritten(String in, String why) throws Exception {
    CanonicalJson.Result r = CanonicalJson.write(parse("{\"n\": [" + in + "]}"), 32);

    assertThat(r.violations())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.pointer()).isEqualTo("/n/0");
              assertThat(v.message()).contains(why);
            });
  }

  @Test
  void escapesStringsAsRfc8785Does() throws Exception {
    String text =
        CanonicalJson.write(
                parse(
                    "[\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\\u001f\\u007f\"]"),
                32)
            .text();

    assertThat(text).isEqualTo("[\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\\u001f\u007f\"]");
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

  /**
   * Plain runs and surrogate pairs are copied as they are around the escapes; a string or member
   * name with several faults is named once, for the first.
   */
  @Test
  void copiesRunsAndPairsAroundEscapesAndNamesAStringsFirstFaultOnly() throws Exception {
    assertThat(CanonicalJson.write(parse("[\"ab\\ud83d\\ude00c\\n\\\"d\"]"), 32).text())
        .isEqualTo("[\"ab\ud83d\ude00c\\n\\\"d\"]");
    assertThat(CanonicalJson.write(parse("{\"k\\u0000\":\"x\\udc00y\\u0000\"}"), 32).violations())
        .extracting(Violation::pointer, Violation::message)
        .containsExactly(
            tuple("/k\u0000", "member name contains a NUL character (\\u0000)"),
            tuple("/k\u0000", "string contains an unpaired UTF-16 surrogate"));
    assertThat(CanonicalJson.write(parse("[\"x\\ud800\"]"), 32).text()).isEqualTo("[\"x\ud800\"]");
  }
}
