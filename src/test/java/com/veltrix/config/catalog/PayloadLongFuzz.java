package com.veltrix.config.catalog;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The same fuzz targets as {@link PayloadFuzzTest}, for 30 minutes each; not part of the default
 * build. {@code JAZZER_FUZZ=1 ./mvnw -Pbench test -Dtest='PayloadLongFuzz#payloads'}.
 */
class PayloadLongFuzz {

  private final PayloadFuzzTest targets = new PayloadFuzzTest();

  @FuzzTest(maxDuration = "30m")
  void payloads(FuzzedDataProvider data) {
    targets.payloadsAreValidatedOrRefusedCleanly(data);
  }

  @FuzzTest(maxDuration = "30m")
  void pageTokens(FuzzedDataProvider data) {
    targets.pageTokensDecodeOnlyWhenGenuine(data);
  }
}
