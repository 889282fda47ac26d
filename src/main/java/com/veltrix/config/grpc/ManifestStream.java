package com.veltrix.config.grpc;

import com.veltrix.config.catalog.ManifestCursor;
import com.veltrix.config.catalog.ManifestEntry;
import com.veltrix.config.grpc.v1.ListActiveResponse;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;

/**
 * Streams a manifest with flow control: a chunk is read from the database only when the client's
 * transport can take another message, so memory holds one chunk, however large the manifest.
 */
final class ManifestStream implements Runnable {

  private final ManifestCursor cursor;
  private final ServerCallStreamObserver<ListActiveResponse> call;
  private final int chunk;
  private final List<String> assumedSchedules;
  private boolean sentAny;
  private boolean done;

  private ManifestStream(
      ManifestCursor cursor,
      ServerCallStreamObserver<ListActiveResponse> call,
      int chunk,
      List<String> assumedSchedules) {
    this.cursor = cursor;
    this.call = call;
    this.chunk = chunk;
    this.assumedSchedules = assumedSchedules;
  }

  /** Streams {@code cursor}; a preview's messages also name the schedules it assumed. */
  static void start(
      ManifestCursor cursor,
      ServerCallStreamObserver<ListActiveResponse> call,
      int chunk,
      List<String> assumedSchedules) {
    ManifestStream stream = new ManifestStream(cursor, call, chunk, assumedSchedules);
    call.setOnCancelHandler(() -> {});
    call.setOnReadyHandler(stream);
    stream.run();
  }

  /** Sends chunks while the transport is ready; the ready handler calls it again. */
  @Override
  public synchronized void run() {
    try {
      while (!done && call.isReady()) {
        if (call.isCancelled()) {
          done = true;
          return;
        }
        List<ManifestEntry> entries = cursor.next(chunk);
        if (!entries.isEmpty() || !sentAny) {
          ListActiveResponse.Builder message =
              ListActiveResponse.newBuilder()
                  .setRevision(cursor.revision())
                  .addAllAssumedScheduleIds(assumedSchedules);
          entries.forEach(e -> message.addEntries(GrpcMapper.manifestEntry(e)));
          call.onNext(message.build());
          sentAny = true;
        }
        if (entries.size() < chunk) {
          done = true;
          call.onCompleted();
        }
      }
    } catch (RuntimeException e) {
      done = true;
      call.onError(GrpcExceptionAdvice.toStatus(e));
    }
  }
}
