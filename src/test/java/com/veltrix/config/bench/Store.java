package com.veltrix.config.bench;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * One system under comparison, seen through the operations the workloads need. Every call checks
 * its answer (the document was found, the write was acknowledged) and throws when it is wrong, so
 * an error is never counted as a fast success.
 */
interface Store extends AutoCloseable {

  String name();

  /** Writes the documents {@code ids} with their contents in one atomic batch. */
  void putBatch(List<String> ids, List<byte[]> payloads);

  /** Writes one document and returns when the write is durable and acknowledged. */
  void put(String id, byte[] payload);

  /** The same write, asynchronously (the watch workload paces writes without waiting). */
  CompletableFuture<?> putAsync(String id, byte[] payload);

  /** Reads the current content of document {@code id}; throws when it is missing. */
  void get(String id);

  /**
   * Loads every document as a consumer starting cold does: one consistent snapshot, all payloads.
   * Records the latency of each page or batch; returns the number of documents loaded.
   */
  long coldLoad(Histogram pageLatency);

  /**
   * How a plain HTTP client reads one document by id (the wrk rows), or empty when this side is not
   * read over HTTP.
   */
  default Optional<HttpRead> httpRead() {
    return Optional.empty();
  }

  /** Watches every document whose id starts with {@code idPrefix}, from now on. */
  AutoCloseable watch(String idPrefix, Consumer<String> onChangedId);

  @Override
  void close();
}
