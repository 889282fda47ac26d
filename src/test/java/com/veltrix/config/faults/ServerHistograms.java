package com.veltrix.config.faults;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Prometheus histogram of a service, read from two scrapes of {@code /actuator/prometheus}: the
 * observations between them, and their quantiles as the upper bound of the bucket each falls in
 * (what the service itself measured, to set beside what its clients saw).
 */
final class ServerHistograms {

  private static final Pattern BUCKET =
      Pattern.compile("^(\\w+)_bucket\\{(.*)le=\"([^\"]+)\"[^}]*\\} ([0-9.eE+-]+)$");

  /** REST calls, and the labels of a single document's calls ({@code /api/v1/{kind}/{id}}). */
  static final String REQUESTS = "http_server_requests_seconds";

  static final String DOCUMENT = "uri=\"/api/v1/{kind}/{id}\"";

  /** How long a write queued for its group, and its group's transaction. */
  static final String WRITE_QUEUE = "veltrix_writes_queue_seconds";

  static final String GROUP_TRANSACTION = "veltrix_writes_group_transaction_seconds";

  private ServerHistograms() {}

  /**
   * The quantiles {@code qs} (0-1) in ms of histogram {@code name} over the series whose labels
   * contain every one of {@code labels} (e.g. {@code method="PUT"}), summed, between {@code before}
   * and {@code after}; "-" for a quantile with no observation.
   */
  static String quantiles(
      String before, String after, String name, List<String> labels, double... qs) {
    TreeMap<Double, Double> counts = buckets(after, name, labels);
    buckets(before, name, labels).forEach((le, n) -> counts.merge(le, -n, Double::sum));
    double total = counts.isEmpty() ? 0 : counts.lastEntry().getValue();
    StringBuilder out = new StringBuilder();
    for (double q : qs) {
      out.append(out.isEmpty() ? "" : " / ");
      if (total <= 0) {
        out.append('-');
        continue;
      }
      for (Map.Entry<Double, Double> bucket : counts.entrySet()) {
        if (bucket.getValue() >= q * total) {
          out.append(
              bucket.getKey().isInfinite()
                  ? "> last bucket"
                  : String.format("≤ %.1f", bucket.getKey() * 1000));
          break;
        }
      }
    }
    return out.toString();
  }

  private static TreeMap<Double, Double> buckets(String scrape, String name, List<String> labels) {
    TreeMap<Double, Double> counts = new TreeMap<>();
    scrape
        .lines()
        .forEach(
            line -> {
              Matcher m = BUCKET.matcher(line);
              if (m.matches()
                  && m.group(1).equals(name)
                  && labels.stream().allMatch(l -> m.group(2).contains(l))) {
                double le =
                    m.group(3).equals("+Inf")
                        ? Double.POSITIVE_INFINITY
                        : Double.parseDouble(m.group(3));
                counts.merge(le, Double.parseDouble(m.group(4)), Double::sum);
              }
            });
    return counts;
  }
}
