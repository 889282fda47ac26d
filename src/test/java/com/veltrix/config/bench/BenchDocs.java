package com.veltrix.config.bench;

import java.nio.charset.StandardCharsets;

/**
 * The documents both systems store: drop tables of eight weighted entries, about 600 bytes of JSON
 * each. The same bytes go to veltrix (payload_json) and to etcd (the value).
 */
final class BenchDocs {

  private BenchDocs() {}

  static String id(long n) {
    return "dt-" + n;
  }

  /** The content of document {@code n} in generation {@code generation} (a new one per rewrite). */
  static byte[] payload(long n, long generation) {
    StringBuilder json = new StringBuilder(640).append("{\"rolls\":2,\"entries\":[");
    for (int e = 0; e < 8; e++) {
      if (e > 0) {
        json.append(',');
      }
      json.append("{\"itemId\":\"item-")
          .append((n * 8 + e) % 100_000)
          .append("\",\"weight\":")
          .append(1 + (n + e + generation) % 97)
          .append(",\"minQuantity\":1,\"maxQuantity\":")
          .append(2 + (generation + e) % 9)
          .append('}');
    }
    return json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }
}
