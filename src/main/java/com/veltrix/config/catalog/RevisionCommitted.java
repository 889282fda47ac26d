package com.veltrix.config.catalog;

import java.util.List;

/**
 * This pod has just committed {@code revision} (published after the commit, on the committer's
 * thread): whoever serves changes from this pod can send them now instead of at its next poll.
 * Other pods' commits are still found by polling.
 *
 * @param events every change event of the revision, as the change feed will report them (in its
 *     order: kind, then id), when the committer knows them; empty when it does not (a retry that
 *     found its earlier attempt committed), and the feed must be read. A revision always writes at
 *     least one version, so empty never means "no events".
 */
public record RevisionCommitted(long revision, List<ChangeEvent> events) {

  public RevisionCommitted {
    events = List.copyOf(events);
  }

  /** A revision committed here whose events must be read from the feed. */
  public static RevisionCommitted eventsUnknown(long revision) {
    return new RevisionCommitted(revision, List.of());
  }
}
