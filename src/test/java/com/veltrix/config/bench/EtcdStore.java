package com.veltrix.config.bench;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * etcd 3.4 through jetcd, with the operations the replaced design used: linearizable gets (jetcd's
 * default), a txn of puts per batch, paged ranges over the prefix pinned at the first page's
 * revision, and a prefix watch. Keys are {@code /veltrix/drop-tables/<id>}.
 */
final class EtcdStore implements Store {

  static final String PREFIX = "/veltrix/drop-tables/";
  private static final int PAGE = 1000;

  private final Client client;
  private final KV kv;
  private final String endpoint;

  EtcdStore(String endpoint) {
    this.endpoint = endpoint;
    // No keepalive pings while no call is open: etcd's server refuses them (its enforcement policy
    // does not permit pings without a stream), and jetcd's default (every 30 s, idle included) got
    // GOAWAY ENHANCE_YOUR_CALM too_many_pings after ~90 s idle, logged in the middle of the
    // veltrix rows, and a reconnect at etcd's next call (docs/performance.md)
    client =
        Client.builder()
            .endpoints(endpoint)
            .maxInboundMessageSize(64 << 20)
            .keepaliveWithoutCalls(false)
            .build();
    kv = client.getKVClient();
  }

  @Override
  public String name() {
    return "etcd";
  }

  @Override
  public void putBatch(List<String> ids, List<byte[]> payloads) {
    Op[] puts = new Op[ids.size()];
    for (int i = 0; i < puts.length; i++) {
      puts[i] = Op.put(key(ids.get(i)), ByteSequence.from(payloads.get(i)), PutOption.DEFAULT);
    }
    TxnResponse response = await(kv.txn().Then(puts).commit());
    if (!response.isSucceeded() || response.getPutResponses().size() != puts.length) {
      throw new IllegalStateException("txn of " + puts.length + " puts answered " + response);
    }
  }

  @Override
  public void put(String id, byte[] payload) {
    await(putAsync(id, payload));
  }

  @Override
  public CompletableFuture<?> putAsync(String id, byte[] payload) {
    return kv.put(key(id), ByteSequence.from(payload));
  }

  @Override
  public void get(String id) {
    GetResponse response = await(kv.get(key(id)));
    if (response.getKvs().size() != 1) {
      throw new IllegalStateException("get " + id + ": " + response.getKvs().size() + " keys");
    }
  }

  @Override
  public long coldLoad(Histogram pageLatency) {
    ByteSequence end = bytes(PREFIX.substring(0, PREFIX.length() - 1) + '0'); // '/' + 1
    ByteSequence from = bytes(PREFIX);
    long revision = 0; // the first page reads the current revision; the others are pinned to it
    long loaded = 0;
    while (true) {
      long t0 = System.nanoTime();
      GetResponse page =
          await(
              kv.get(
                  from,
                  GetOption.builder()
                      .withRange(end)
                      .withLimit(PAGE)
                      .withRevision(revision)
                      .build()));
      pageLatency.recordValue((System.nanoTime() - t0) / 1_000);
      List<KeyValue> kvs = page.getKvs();
      loaded += kvs.size();
      revision = page.getHeader().getRevision();
      if (!page.isMore() || kvs.isEmpty()) {
        return loaded;
      }
      byte[] last = kvs.get(kvs.size() - 1).getKey().getBytes();
      byte[] next = Arrays.copyOf(last, last.length + 1); // the smallest key after last
      from = ByteSequence.from(next);
    }
  }

  /** etcd 3.4's JSON gateway: {@code POST /v3/kv/range} with the key in base64 (linearizable). */
  @Override
  public Optional<HttpRead> httpRead() {
    return Optional.of(
        new HttpRead(
            "POST",
            endpoint,
            Map.of("Content-Type", "application/json"),
            id -> "/v3/kv/range",
            id ->
                "{\"key\":\""
                    + Base64.getEncoder()
                        .encodeToString((PREFIX + id).getBytes(StandardCharsets.UTF_8))
                    + "\"}",
            body -> body.contains("\"kvs\"")));
  }

  @Override
  public AutoCloseable watch(String idPrefix, Consumer<String> onChangedId) {
    var watcher =
        client
            .getWatchClient()
            .watch(
                key(idPrefix),
                WatchOption.builder().isPrefix(true).build(),
                response -> {
                  for (WatchEvent event : response.getEvents()) {
                    if (event.getEventType() == WatchEvent.EventType.PUT) {
                      String key = event.getKeyValue().getKey().toString(StandardCharsets.UTF_8);
                      onChangedId.accept(key.substring(PREFIX.length()));
                    }
                  }
                });
    return watcher::close;
  }

  @Override
  public void close() {
    client.close();
  }

  private static ByteSequence key(String id) {
    return bytes(PREFIX + id);
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }
}
