package com.veltrix.config.catalog.write;

import com.veltrix.config.catalog.CatalogStore.NewVersion;
import com.veltrix.config.catalog.DocumentKey;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The current state with future batches applied: which of them would apply ({@code applied}, in
 * order; one that would fail is left out, as it will fail) and the newest version each written
 * document would have (its revision 0: not written yet). {@code baseRevision} is the revision
 * current when the preview was computed.
 */
public record Preview(
    long baseRevision, List<String> applied, Map<DocumentKey, NewVersion> changed) {

  /** A batch to apply later: the schedule id, its writes, who wrote it and when it applies. */
  public record Planned(
      String id, List<WriteCommand> writes, WriteContext context, Instant applyAt) {}
}
