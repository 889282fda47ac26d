package com.veltrix.config.grpc;

import com.veltrix.config.catalog.ChangeEvent;
import com.veltrix.config.catalog.ChangePage;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.RevisionCommitted;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * The change events of the revisions this pod committed last, as its committer knew them: a watch
 * that has sent everything before one of them sends it from here instead of reading the change
 * feed, so a watch on the writing pod costs the database nothing per commit. Holds at most {@code
 * maxEvents} events (and always the newest revision); what is not here is read from the feed, so a
 * revision another pod committed, or one evicted, is never missed, only read.
 *
 * <p>A watch uses only commits remembered after its latest read of the feed began ({@link #mark}):
 * those are commits the feed had not shown it. So what this pod remembers of a database that has
 * since gone back to an earlier point (a restore; a test's reset) is never sent in place of what
 * the feed now holds.
 */
final class RecentCommits {

  private record Commit(long mark, List<ChangeEvent> events) {}

  private final int maxEvents;
  private final LinkedHashMap<Long, Commit> byRevision = new LinkedHashMap<>();
  private long marks;
  private long newest = -1;
  private int events;

  RecentCommits(int maxEvents) {
    this.maxEvents = maxEvents;
  }

  /** A point in the sequence of commits remembered: take it before reading the feed. */
  synchronized long mark() {
    return marks;
  }

  /** Remembers {@code commit}, unless its events are unknown; evicts the oldest beyond the cap. */
  synchronized void add(RevisionCommitted commit) {
    if (commit.events().isEmpty()) {
      return;
    }
    if (commit.revision() <= newest) { // the database went back: what is held may be wrong
      byRevision.clear();
      events = 0;
    }
    newest = commit.revision();
    byRevision.put(commit.revision(), new Commit(++marks, commit.events()));
    events += commit.events().size();
    for (Iterator<Commit> it = byRevision.values().iterator();
        events > maxEvents && byRevision.size() > 1 && it.hasNext(); ) {
      events -= it.next().events().size();
      it.remove();
    }
  }

  /**
   * The page of exactly {@code revision}, its events of {@code kinds} (all when empty), when this
   * pod committed it after {@code mark}; otherwise null, and the feed must be read.
   */
  synchronized ChangePage page(long revision, Set<Kind> kinds, long mark) {
    Commit commit = byRevision.get(revision);
    if (commit == null || commit.mark() <= mark) {
      return null;
    }
    List<ChangeEvent> wanted =
        kinds.isEmpty()
            ? commit.events()
            : commit.events().stream().filter(e -> kinds.contains(e.kind())).toList();
    return new ChangePage(revision, wanted);
  }
}
