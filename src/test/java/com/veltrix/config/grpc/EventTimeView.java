package com.veltrix.config.grpc;

import com.google.protobuf.Timestamp;
import com.veltrix.config.grpc.ExampleConsumer.Held;
import com.veltrix.config.grpc.ExampleConsumer.Key;
import com.veltrix.config.grpc.v1.ConfigDocument;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc.ConfigServiceBlockingStub;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.ListActiveRequest;
import com.veltrix.config.grpc.v1.ListActiveResponse;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.grpc.v1.WatchChangesResponse.ChangeType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What a Flink job replaying player events does to join each event with the configuration that was
 * live at the event's time (an event-time join with a versioned table):
 *
 * <ol>
 *   <li>{@code ListActive} with {@code at_time} = the first event's time: the manifest at the last
 *       revision committed by then, and its payloads;
 *   <li>{@code WatchChanges} from that revision: every later change carries its revision's {@code
 *       committed_at}, so a change is applied once the replay's clock passes it;
 *   <li>a {@code PROGRESS} event means every commit so far was sent; a later commit can only be
 *       later than now, so events up to now are answered from the view as it is.
 * </ol>
 *
 * One manifest and one watch for a whole replay, however many events: no call per event, one {@code
 * GetConfigs} per change. Event times must not go backwards (a Flink watermark gives that). The
 * watch ends with the stub's deadline or its channel.
 */
public final class EventTimeView {

  private final ConfigServiceBlockingStub stub;
  private final Map<Key, Held> view = new HashMap<>();
  private final Iterator<WatchChangesResponse> changes;
  private WatchChangesResponse next;
  private Instant clock;
  private long revision;

  public EventTimeView(ConfigServiceBlockingStub stub, Instant start) {
    this.stub = stub;
    this.clock = start;
    Iterator<ListActiveResponse> manifest =
        stub.listActive(ListActiveRequest.newBuilder().setAtTime(timestamp(start)).build());
    List<ConfigRef> refs = new ArrayList<>();
    while (manifest.hasNext()) {
      ListActiveResponse chunk = manifest.next();
      revision = chunk.getRevision();
      chunk
          .getEntriesList()
          .forEach(
              e ->
                  refs.add(
                      ConfigRef.newBuilder()
                          .setKind(e.getKind())
                          .setId(e.getId())
                          .setVersion(e.getVersion())
                          .build()));
    }
    for (int from = 0; from < refs.size(); from += 1000) {
      for (ConfigDocument d :
          stub.getConfigs(
                  GetConfigsRequest.newBuilder()
                      .addAllRefs(refs.subList(from, Math.min(refs.size(), from + 1000)))
                      .build())
              .getConfigsList()) {
        view.put(
            new Key(d.getKind(), d.getId()),
            new Held(d.getVersion(), d.getContentHash(), d.getPayloadJson()));
      }
    }
    changes =
        stub.watchChanges(WatchChangesRequest.newBuilder().setAfterRevision(revision).build());
  }

  /** The revision the view is at. */
  public long revision() {
    return revision;
  }

  /** The ACTIVE configuration at {@code eventTime} (not before the previous call's). */
  public Map<Key, Held> at(Instant eventTime) {
    if (eventTime.isBefore(clock)) {
      throw new IllegalArgumentException("event time went backwards: " + eventTime + " < " + clock);
    }
    clock = eventTime;
    while (true) {
      if (next == null) {
        next = changes.next();
      }
      if (next.getType() == ChangeType.CHANGE_TYPE_PROGRESS) {
        next = null;
        return Map.copyOf(view); // caught up: nothing committed so far is later than the event
      }
      if (instant(next.getCommittedAt()).isAfter(eventTime)) {
        return Map.copyOf(view);
      }
      apply(next);
      next = null;
    }
  }

  private void apply(WatchChangesResponse change) {
    Key key = new Key(change.getKind(), change.getId());
    revision = change.getRevision();
    if (change.getType() == ChangeType.CHANGE_TYPE_RETIRED) {
      view.remove(key);
      return;
    }
    ConfigDocument d =
        stub.getConfigs(
                GetConfigsRequest.newBuilder()
                    .addRefs(
                        ConfigRef.newBuilder()
                            .setKind(change.getKind())
                            .setId(change.getId())
                            .setVersion(change.getVersion()))
                    .build())
            .getConfigs(0);
    view.put(key, new Held(d.getVersion(), d.getContentHash(), d.getPayloadJson()));
  }

  private static Timestamp timestamp(Instant at) {
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }

  private static Instant instant(Timestamp at) {
    return Instant.ofEpochSecond(at.getSeconds(), at.getNanos());
  }
}
