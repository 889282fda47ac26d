package com.veltrix.config.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.catalog.ChangeEvent;
import com.veltrix.config.catalog.ChangePage;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.RevisionCommitted;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RecentCommitsTest {

  private final RecentCommits recent = new RecentCommits(5);

  @Test
  void aCommitIsServedToWatchesThatReadTheFeedBeforeItNotAfter() {
    long before = recent.mark();
    recent.add(commit(1, Kind.DROP_TABLE, Kind.SPAWN_RULE));
    long after = recent.mark();

    ChangePage page = recent.page(1, Set.of(), before);
    assertThat(page.revision()).isEqualTo(1);
    assertThat(page.events()).extracting(ChangeEvent::id).containsExactly("r1-0", "r1-1");
    assertThat(recent.page(1, Set.of(Kind.SPAWN_RULE), before).events())
        .extracting(ChangeEvent::id)
        .containsExactly("r1-1");
    assertThat(recent.page(1, Set.of(Kind.TREASURE_LOCATION), before).events()).isEmpty();
    assertThat(recent.page(1, Set.of(), after)).as("the feed read after it showed it").isNull();
    assertThat(recent.page(2, Set.of(), before)).as("never committed here").isNull();
  }

  @Test
  void theOldestCommitsGoBeyondTheCapButNeverTheNewest() {
    long mark = recent.mark();
    recent.add(commit(1, Kind.DROP_TABLE, Kind.DROP_TABLE));
    recent.add(commit(2, Kind.DROP_TABLE, Kind.DROP_TABLE));
    recent.add(commit(3, Kind.DROP_TABLE, Kind.DROP_TABLE));
    assertThat(recent.page(1, Set.of(), mark)).isNull();
    assertThat(recent.page(2, Set.of(), mark)).isNotNull();
    assertThat(recent.page(3, Set.of(), mark)).isNotNull();

    Kind[] many = IntStream.range(0, 8).mapToObj(i -> Kind.DROP_TABLE).toArray(Kind[]::new);
    recent.add(commit(4, many));
    assertThat(recent.page(3, Set.of(), mark)).isNull();
    assertThat(recent.page(4, Set.of(), mark).events()).hasSize(8);
  }

  @Test
  void aRevisionCommittedAgainMeansTheDatabaseWentBackAndEverythingHeldIsDropped() {
    long mark = recent.mark();
    recent.add(commit(7, Kind.DROP_TABLE));
    recent.add(commit(8, Kind.DROP_TABLE));
    recent.add(commit(3, Kind.SPAWN_RULE));

    assertThat(recent.page(7, Set.of(), mark)).isNull();
    assertThat(recent.page(8, Set.of(), mark)).isNull();
    assertThat(recent.page(3, Set.of(), mark).events())
        .extracting(ChangeEvent::kind)
        .containsExactly(Kind.SPAWN_RULE);
  }

  @Test
  void aCommitWhoseEventsAreUnknownIsLeftToTheFeed() {
    long mark = recent.mark();
    recent.add(RevisionCommitted.eventsUnknown(1));
    assertThat(recent.page(1, Set.of(), mark)).isNull();
  }

  private static RevisionCommitted commit(long revision, Kind... kinds) {
    List<ChangeEvent> events =
        IntStream.range(0, kinds.length)
            .mapToObj(
                i ->
                    new ChangeEvent(
                        revision,
                        kinds[i],
                        "r" + revision + "-" + i,
                        1,
                        ChangeEvent.Type.UPSERTED,
                        "h",
                        Instant.EPOCH))
            .toList();
    return new RevisionCommitted(revision, events);
  }
}
