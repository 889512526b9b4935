package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the index tables keep across writes: rows, tombstones and the block fingerprints beside them. */
class StateStoreTest {
  @TempDir
  Path dir;

  private static IndexRecord file(String path, long seq) {
    return new IndexRecord(path, path, Entry.file(ContentHash.of(path.getBytes()), 3, false, 1000), 3, 1_000_000_000L,
        "1:2:3", seq);
  }

  private static IndexRecord tombstone(String path, long seq) {
    return new IndexRecord(path, path, null, 0, 0, null, seq);
  }

  private static StateStore.BlockList blocks(String path) {
    return new StateStore.BlockList(ContentHash.of(path.getBytes()), 4, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
  }

  @Test
  void theConflictCountIsCountedOnceAndFollowsEveryRowAdded() throws Exception {
    Path db = dir.resolve("index.db");
    try (StateStore store = StateStore.open(db)) {
      store.addConflict(new StateStore.ConflictRow("a.txt", "a.conflict-x-1.txt", "book", 1, "both changed"));
      assertThat(store.conflictCount()).isEqualTo(1);
      store.addConflict(new StateStore.ConflictRow("b.txt", "b.conflict-x-2.txt", "book", 2, "both changed"));
      assertThat(store.conflictCount()).isEqualTo(2).isEqualTo(store.conflicts().size());
    }
    try (StateStore store = StateStore.open(db)) { // a restart counts the rows kept
      assertThat(store.conflictCount()).isEqualTo(2);
      store.addConflict(new StateStore.ConflictRow("c.txt", "c.conflict-x-3.txt", "book", 3, "both changed"));
      assertThat(store.conflictCount()).isEqualTo(3).isEqualTo(store.conflicts().size());
    }
  }

  @Test
  void aRowThatStopsBeingAFileDropsItsFingerprintsAndOnlyIts() throws Exception {
    try (StateStore store = StateStore.open(dir.resolve("index.db"))) {
      store.writeEntries(List.of(file("big", 1), file("other", 2)), 2, Map.of("big", blocks("big"), "other",
          blocks("other")));
      store.writeEntries(List.of(tombstone("big", 3), new IndexRecord("other", "other", Entry.directory(), 0, 0, null,
          4), file("new", 5)), 5, Map.of());
      assertThat(store.loadBlocks("big")).isNull();
      assertThat(store.loadBlocks("other")).isNull();
      store.writeEntries(List.of(file("big", 6)), 6, Map.of("big", blocks("big")));
      store.writeEntries(List.of(tombstone("new", 7)), 7, Map.of());
      assertThat(store.loadBlocks("big").fingerprints()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
    }
  }

  @Test
  void tombstonesWithNoFingerprintsStoredAreWrittenAndReadBack() throws Exception {
    Path db = dir.resolve("index.db");
    try (StateStore store = StateStore.open(db)) {
      store.writeEntries(List.of(file("a", 1), file("b", 2)), 2);
      store.writeEntries(List.of(tombstone("a", 3), tombstone("b", 4)), 4);
    }
    try (StateStore store = StateStore.open(db)) {
      assertThat(store.loadEntries()).containsOnlyKeys("a", "b");
      assertThat(store.loadEntries().values()).allSatisfy(r -> assertThat(r.entry()).isNull());
      assertThat(store.meta("last_seq")).isEqualTo("4");
    }
  }
}
