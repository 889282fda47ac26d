package com.veltrix.config.grpc;

import com.veltrix.config.DaemonThreads;
import com.veltrix.config.catalog.CapacityProperties;
import com.veltrix.config.catalog.ChangeEvent;
import com.veltrix.config.catalog.ChangePage;
import com.veltrix.config.catalog.ConfigReader;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.OverloadedException;
import com.veltrix.config.catalog.RevisionCommitted;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.devh.boot.grpc.server.event.GrpcServerShutdownEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The live side of WatchChanges. A commit made by this pod wakes its watches at once ({@link
 * RevisionCommitted}); one poller per pod reads the current revision every {@code
 * watch-poll-interval} for the other pods' commits. When it moves, every watch behind it pumps: it
 * streams the revisions after the last one it sent while the client's transport is ready (flow
 * control), each revision this pod just committed from the committer's own events ({@link
 * RecentCommits}), any other as pages read from the change feed. An idle watch gets a PROGRESS
 * event every {@code watch-progress-interval}, carrying the revision through which everything has
 * been sent.
 */
@Component
class ChangeStreams implements DisposableBean {

  private static final Logger log = LoggerFactory.getLogger(ChangeStreams.class);
  private static final int PAGE = 1000;

  /** Events of this pod's latest commits kept for its watches: ~200 bytes each, ~1 MiB in all. */
  private static final int RECENT_EVENTS = 5000;

  /**
   * How many bytes of a watch's events may wait in the transport before the watch stops sending
   * (gRPC's default is 32 KiB): about forty events. Each event is a message of its own, and gRPC
   * gives each message a buffer of at least 4 KiB, so a consumer that stops reading leaves ~0.15 MB
   * of the pod's direct memory behind here, ~1.3 MB at the default; 1 KiB left ~0.08 MB but made a
   * watch catching up a quarter slower (docs/decisions.md, "A consumer that stops reading a
   * watch").
   */
  private static final int ON_READY_BYTES = 4096;

  /**
   * How long a watch's transport may take none of its events before the watch keeps only the
   * revision it is in the middle of and reads the rest again when its consumer is back.
   */
  private static final long STALLED_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final ConfigReader reader;
  private final GrpcProperties properties;
  private final CapacityProperties capacity;
  private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
  private final RecentCommits recent = new RecentCommits(RECENT_EVENTS);
  private final Counter pagesFromCommits;
  private final Counter pagesFromFeed;
  private final ScheduledExecutorService executor = DaemonThreads.scheduled("watch-changes", 2);
  private volatile long latestRevision;
  private volatile boolean closing;

  private static final String SHUTTING_DOWN =
      "server shutting down; resume from your last revision on another instance";

  ChangeStreams(
      ConfigReader reader,
      GrpcProperties properties,
      CapacityProperties capacity,
      MeterRegistry meters) {
    this.reader = reader;
    this.capacity = capacity;
    this.properties = properties;
    String pages = "veltrix.watch.pages";
    String description = "pages of change events sent to watches, by where they were read";
    this.pagesFromCommits =
        Counter.builder(pages).tag("source", "commit").description(description).register(meters);
    this.pagesFromFeed =
        Counter.builder(pages).tag("source", "feed").description(description).register(meters);
    Gauge.builder("veltrix.watches.open", watches, Set::size)
        .description("WatchChanges streams this instance serves (veltrix.capacity.max-watches)")
        .register(meters);
    Gauge.builder("veltrix.watch.events.held", watches, w -> w.stream().mapToInt(Watch::held).sum())
        .description("change events read for watches whose consumers have not taken them yet")
        .register(meters);
    long interval = properties.watchPollInterval().toNanos();
    executor.scheduleWithFixedDelay(this::poll, interval, interval, TimeUnit.NANOSECONDS);
  }

  /**
   * Starts a watch. The first page is read here, on the caller's thread, so a bad request (a future
   * revision) fails the call with its status before any event is sent.
   */
  void open(
      long afterRevision, Set<Kind> kinds, ServerCallStreamObserver<WatchChangesResponse> call) {
    if (closing) {
      // the listener closes asynchronously: a connection that raced it must not get a watch here
      throw Status.UNAVAILABLE.withDescription(SHUTTING_DOWN).asRuntimeException();
    }
    if (watches.size() >= capacity.maxWatches()) {
      throw new OverloadedException(
          "this instance serves " + watches.size() + " watches, its limit; resume on another");
    }
    long mark = recent.mark();
    ChangePage first = reader.changes(afterRevision, OptionalInt.of(PAGE), kinds);
    latestRevision = Math.max(latestRevision, first.revision());
    Watch watch = new Watch(kinds, call, afterRevision, mark);
    call.setOnReadyThreshold(ON_READY_BYTES);
    call.setOnCancelHandler(() -> watch.close());
    call.setOnReadyHandler(watch::wake);
    watches.add(watch);
    if (closing) {
      // the shutdown began while the first page was read and may not have seen this watch: it
      // would hold the gRPC drain for the whole grace period
      watch.end(Status.UNAVAILABLE.withDescription(SHUTTING_DOWN));
      return;
    }
    watch.send(first);
    watch.wake();
  }

  int openWatches() {
    return watches.size();
  }

  private void poll() {
    if (watches.isEmpty()) {
      return;
    }
    try {
      latestRevision = Math.max(latestRevision, reader.currentRevision());
    } catch (RuntimeException e) {
      log.debug("watch poll failed: {}", e.toString());
      return;
    }
    watches.forEach(Watch::wake);
  }

  /**
   * A commit of this pod: its watchers need not wait for the next poll, and those that have sent
   * everything before it send its events without reading the feed.
   */
  @EventListener
  void committed(RevisionCommitted event) {
    if (watches.isEmpty()) {
      return;
    }
    recent.add(event);
    latestRevision = Math.max(latestRevision, event.revision());
    watches.forEach(Watch::wake);
  }

  /**
   * The gRPC server is about to stop (the starter announces it before it shuts the server down):
   * first stop accepting (GOAWAY to every connection, the port closed), so a consumer that
   * reconnects lands on another pod; then end every watch with UNAVAILABLE so its client resumes
   * there at once. A watch never ends by itself, so left open it would hold the gRPC drain for its
   * whole grace period. In-flight unary calls still finish.
   */
  @EventListener
  void shuttingDown(GrpcServerShutdownEvent event) {
    closing = true;
    event.getServer().shutdown();
    for (Watch watch : List.copyOf(watches)) {
      watch.end(Status.UNAVAILABLE.withDescription(SHUTTING_DOWN));
    }
  }

  @Override
  public void destroy() {
    executor.shutdownNow();
    watches.forEach(Watch::close);
  }

  /** One client's watch; pumps run one at a time on the shared executor. */
  private final class Watch {
    private final Set<Kind> kinds;
    private final ServerCallStreamObserver<WatchChangesResponse> call;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private long sentThrough;
    private long feedReadMark;
    private long lastSentNanos = System.nanoTime();
    private List<ChangeEvent> unsent = List.of();
    private int nextUnsent;
    private long unsentThrough;
    private long stalledSinceNanos;
    private volatile boolean closed;

    /**
     * @param feedReadMark {@link RecentCommits#mark()} before the first page was read
     */
    Watch(
        Set<Kind> kinds,
        ServerCallStreamObserver<WatchChangesResponse> call,
        long afterRevision,
        long feedReadMark) {
      this.kinds = kinds;
      this.call = call;
      this.sentThrough = afterRevision;
      this.feedReadMark = feedReadMark;
    }

    void wake() {
      if (!closed && scheduled.compareAndSet(false, true)) {
        executor.execute(this::pump);
      }
    }

    void close() {
      closed = true;
      watches.remove(this);
    }

    synchronized void end(Status status) {
      if (!closed) {
        close();
        call.onError(status.asRuntimeException());
      }
    }

    private synchronized void pump() {
      scheduled.set(false);
      if (closed) {
        return;
      }
      try {
        while (!closed && sendUnsent() && latestRevision > sentThrough) {
          ChangePage page = recent.page(sentThrough + 1, kinds, feedReadMark);
          if (page != null) {
            pagesFromCommits.increment();
          } else {
            feedReadMark = recent.mark();
            page = reader.changes(sentThrough, OptionalInt.of(PAGE), kinds);
            pagesFromFeed.increment();
            if (page.revision() == sentThrough) {
              break;
            }
          }
          send(page);
        }
        if (!closed
            && unsent.isEmpty()
            && call.isReady()
            && System.nanoTime() - lastSentNanos >= properties.watchProgressInterval().toNanos()) {
          call.onNext(GrpcMapper.progress(sentThrough));
          lastSentNanos = System.nanoTime();
        }
      } catch (RuntimeException e) {
        if (!closed) {
          close();
          call.onError(GrpcExceptionAdvice.toStatus(e));
        }
      }
    }

    /**
     * Sends {@code page} as far as the transport is ready for it; the rest waits in {@link
     * #unsent}.
     */
    private synchronized void send(ChangePage page) {
      if (closed) {
        return; // ended by the shutdown between open's check and its first page
      }
      unsent = page.events();
      nextUnsent = 0;
      unsentThrough = page.revision();
      sendUnsent();
    }

    /**
     * Sends what is left of the current page, one event at a time while the transport is ready, so
     * that a consumer that stops reading leaves {@link #ON_READY_BYTES} of its events in the
     * transport, not the whole page (a page of 1,000 events was ~3.5 MB of direct memory). True
     * once all of it is sent and the transport is ready.
     */
    private boolean sendUnsent() {
      while (nextUnsent < unsent.size()) {
        if (closed || !call.isReady()) {
          stalled();
          return false;
        }
        call.onNext(GrpcMapper.change(unsent.get(nextUnsent++)));
        lastSentNanos = System.nanoTime();
        stalledSinceNanos = 0;
      }
      unsent = List.of();
      sentThrough = Math.max(sentThrough, unsentThrough);
      return call.isReady();
    }

    /**
     * The transport took nothing: once that has lasted {@link #STALLED_NANOS}, the watch keeps only
     * the rest of the revision it is in the middle of (a page holds revisions in order, so every
     * one before it has been sent) and reads the revisions after it again when its consumer takes
     * events again. A stalled consumer then holds one revision's events on the heap, not a page.
     */
    private void stalled() {
      long now = System.nanoTime();
      if (stalledSinceNanos == 0) {
        stalledSinceNanos = now;
        return;
      }
      long revision = unsent.get(nextUnsent).revision();
      if (now - stalledSinceNanos < STALLED_NANOS || unsentThrough == revision) {
        return;
      }
      int end = nextUnsent;
      while (end < unsent.size() && unsent.get(end).revision() == revision) {
        end++;
      }
      unsent = List.copyOf(unsent.subList(nextUnsent, end));
      nextUnsent = 0;
      unsentThrough = revision;
      sentThrough = Math.max(sentThrough, revision - 1);
    }

    /** Events read for this watch and not yet sent (read without the lock: a gauge's estimate). */
    int held() {
      return Math.max(0, unsent.size() - nextUnsent);
    }
  }
}
