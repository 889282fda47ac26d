package com.veltrix.config.catalog.payload;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.SplittableRandom;
import org.erdtman.jcs.JsonCanonicalizer;
import org.erdtman.jcs.NumberToJSON;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Our canonical form against RFC 8785: its number examples (Appendix B), its sample object (section
 * 3.2.3), and, as an independent implementation, the reference library by the RFC's author
 * (io.github.erdtman:java-json-canonicalization), over random doubles and strings.
 */
class Rfc8785Test {

  static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  static String canonical(String json) throws Exception {
    CanonicalJson.Result r = CanonicalJson.write(JSON.readTree(json), 64);
    assertThat(r.violations()).isEmpty();
    return r.text();
  }

  /** RFC 8785 Appendix B: IEEE 754 bits and the text ECMAScript (and JCS) writes for them. */
  @ParameterizedTest
  @CsvSource({
    "0000000000000000, 0",
    "8000000000000000, 0",
    "0000000000000001, 5e-324",
    "8000000000000001, -5e-324",
    "7fefffffffffffff, 1.7976931348623157e+308",
    "ffefffffffffffff, -1.7976931348623157e+308",
    "4340000000000000, 9007199254740992",
    "c340000000000000, -9007199254740992",
    "4430000000000000, 295147905179352830000",
    "44b52d02c7e14af5, 9.999999999999997e+22",
    "44b52d02c7e14af6, 1e+23",
    "44b52d02c7e14af7, 1.0000000000000001e+23",
    "444b1ae4d6e2ef4e, 999999999999999700000",
    "444b1ae4d6e2ef4f, 999999999999999900000",
    "444b1ae4d6e2ef50, 1e+21",
    "3eb0c6f7a0b5ed8c, 9.999999999999997e-7",
    "3eb0c6f7a0b5ed8d, 0.000001",
    "41b3de4355555553, 333333333.3333332",
    "41b3de4355555554, 333333333.33333325",
    "41b3de4355555555, 333333333.3333333",
    "41b3de4355555556, 333333333.3333334",
    "41b3de4355555557, 333333333.33333343",
    "becbf647612f3696, -0.0000033333333333333333",
    "43143ff3c1cb0959, 1424953923781206.2"
  })
  void writesTheRfcsNumberExamples(String bits, String expected) throws Exception {
    double value = Double.longBitsToDouble(Long.parseUnsignedLong(bits, 16));

    assertThat(EcmaNumbers.format(value)).isEqualTo(expected);
    assertThat(NumberToJSON.serializeNumber(value)).as("the reference agrees").isEqualTo(expected);
  }

  @Test
  void canonicalisesTheRfcsSampleObject() throws Exception {
    String input =
        """
        {
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
          "literals": [null, true, false]
        }
        """;
    String expected =
        "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            + "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";

    // 333333333.33333329 is not exactly a double: the RFC's sample shows what JCS makes of it,
    // which this service refuses to store (it would change). Only that number is checked apart.
    String ours = canonical(input.replace("333333333.33333329", "333333333.3333333"));

    assertThat(ours).isEqualTo(expected);
    assertThat(new JsonCanonicalizer(input).getEncodedString()).isEqualTo(expected);
    assertThat(EcmaNumbers.format(333333333.33333329)).isEqualTo("333333333.3333333");
  }

  @Test
  void agreesWithTheReferenceOnRandomDoubles() throws Exception {
    SplittableRandom random = new SplittableRandom(8785);
    for (int i = 0; i < 100_000; i++) {
      double value =
          i % 2 == 0
              ? Double.longBitsToDouble(random.nextLong())
              : random.nextDouble() * Math.pow(10, random.nextInt(-30, 30));
      if (Double.isFinite(value)) {
        assertThat(EcmaNumbers.format(value))
            .as("bits %x", Double.doubleToRawLongBits(value))
            .isEqualTo(NumberToJSON.serializeNumber(value));
      }
    }
  }

  /** The shortcut for decimals of up to 15 digits gives what the full search gives. */
  @Test
  void shortDecimalsTakeTheShortcutToTheSameText() throws Exception {
    SplittableRandom random = new SplittableRandom(15);
    for (int i = 0; i < 100_000; i++) {
      java.math.BigDecimal written =
          java.math.BigDecimal.valueOf(
              random.nextLong(-999_999_999_999_999L, 1_000_000_000_000_000L),
              random.nextInt(-310, 310));
      String expected =
          Double.isFinite(written.doubleValue())
              ? NumberToJSON.serializeNumber(written.doubleValue())
              : null;
      assertThat(EcmaNumbers.canonical(written)).as(written.toString()).isEqualTo(expected);
    }
  }

  @Test
  void agreesWithTheReferenceOnStringsAndMemberOrder() throws Exception {
    SplittableRandom random = new SplittableRandom(3);
    for (int i = 0; i < 2_000; i++) {
      StringBuilder key = new StringBuilder();
      StringBuilder value = new StringBuilder();
      for (int c = 0; c < 6; c++) {
        key.append(character(random));
        value.append(character(random));
      }
      String json =
          JSON.writeValueAsString(
              java.util.Map.of(key.toString(), value.toString(), "b" + i, i, "\u00e9", i * 0.5));
      assertThat(canonical(json))
          .as(json)
          .isEqualTo(new JsonCanonicalizer(json).getEncodedString());
    }
  }

  /** Control characters, ASCII, Latin-1, BMP, and surrogate pairs (astral planes). */
  static String character(SplittableRandom random) {
    int kind = random.nextInt(5);
    int code =
        switch (kind) {
          case 0 -> random.nextInt(1, 0x20);
          case 1 -> random.nextInt(0x20, 0x7f);
          case 2 -> random.nextInt(0x7f, 0x100);
          case 3 -> random.nextInt(0x100, 0xd800);
          default -> random.nextInt(0x10000, 0x10ffff);
        };
    return new String(Character.toChars(code));
  }
}
