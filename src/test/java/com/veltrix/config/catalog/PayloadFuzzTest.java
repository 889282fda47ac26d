package com.veltrix.config.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.veltrix.config.catalog.payload.PayloadValidator;
import com.veltrix.config.catalog.payload.ValidatedPayload;
import java.util.Optional;

/**
 * Coverage-guided fuzzing (Jazzer) of the two parsers that face untrusted bytes: the payload parser
 * and validator, and the page-token decoder. In the normal build they replay the corpus under
 * src/test/resources/.../PayloadFuzzTestInputs; {@code JAZZER_FUZZ=1} fuzzes (see README). The
 * property: every input is either accepted or refused with the catalog's own errors, each violation
 * naming where; nothing else escapes, and no token is accepted that was not issued.
 */
class PayloadFuzzTest {

  /** Parsed as the REST adapter parses request bodies (application.yaml + JacksonLimits). */
  static final ObjectMapper STRICT =
      JsonMapper.builder(
              JsonFactory.builder()
                  .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxNestingDepth(35)
                          .maxNumberLength(100)
                          .maxStringLength(64 * 1024)
                          .build())
                  .build())
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  static final PayloadValidator VALIDATOR = new PayloadValidator(CatalogLimits.defaults());
  static final PageTokenSigner SIGNER = new PageTokenSigner("fuzzing-page-token-key".getBytes());
  static final String SCOPE = "list DROP_TABLE ACTIVE *";

  @FuzzTest(maxDuration = "10s")
  void payloadsAreValidatedOrRefusedCleanly(FuzzedDataProvider data) {
    Kind kind = data.pickValue(Kind.values());
    String json = data.consumeRemainingAsString();
    JsonNode payload;
    try {
      payload = STRICT.readTree(json);
    } catch (JsonProcessingException | NumberFormatException e) {
      return; // refused by the parser: both adapters answer 400 / INVALID_ARGUMENT
    }
    if (payload == null) {
      return;
    }
    try {
      ValidatedPayload valid = VALIDATOR.validate(new DocumentKey(kind, "doc-1"), payload);
      assertThat(valid.contentHash()).hasSize(64);
      assertThat(
              VALIDATOR
                  .validate(new DocumentKey(kind, "doc-1"), STRICT.readTree(valid.canonicalJson()))
                  .contentHash())
          .as("canonical JSON is a fixed point")
          .isEqualTo(valid.contentHash());
    } catch (InvalidInputException e) {
      assertThat(e.violations()).isNotEmpty();
      e.violations()
          .forEach(
              v ->
                  assertThat(v.pointer())
                      .isNotNull()
                      .satisfies(p -> assertThat(p.isEmpty() || p.startsWith("/")).isTrue()));
    } catch (PayloadTooLargeException e) {
      assertThat(json.length()).isGreaterThan(1000);
    } catch (JsonProcessingException e) {
      throw new AssertionError("canonical JSON did not parse again", e);
    }
  }

  @FuzzTest(maxDuration = "10s")
  void pageTokensDecodeOnlyWhenGenuine(FuzzedDataProvider data) {
    String token = data.consumeRemainingAsString();
    try {
      Optional<PageToken> decoded = PageToken.decode(Optional.of(token), SCOPE, SIGNER);
      decoded.ifPresent(
          t -> assertThat(t.encode(SIGNER)).as("only an issued token decodes").isEqualTo(token));
    } catch (InvalidInputException e) {
      assertThat(e.violations()).extracting(Violation::parameter).containsOnly("pageToken");
    }
  }
}
