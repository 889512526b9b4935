package dev.thunderlink.sync.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A side's answer leaves out the rows of apply results the coordinator recorded ({@link Endpoint.Held}),
 * and only those: never a row rewritten since, never one of another opening of the index.
 */
class HeldRowsTest {
  @TempDir
  Path tmp;

  private static Endpoint.WholeFile file(String path, String content) {
    byte[] b = content.getBytes(UTF_8);
    return new Endpoint.WholeFile(path, null, Entry.file(ContentHash.of(b), b.length, false, 0), b);
  }

  private static List<Endpoint.WholeFile> files(int n) {
    List<Endpoint.WholeFile> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(file("d/f" + i, "content " + i));
    }
    return out;
  }

  private static Endpoint.Held held(long generation, List<ApplyResult> results) {
    TreeSet<Long> seqs = new TreeSet<>();
    results.forEach(r -> seqs.add(r.seq()));
    return Endpoint.Held.of(generation, seqs);
  }

  private DiskEndpoint open(Path root, String db) throws Exception {
    return DiskEndpoint.open(root, tmp.resolve(db), DiskEndpoint.Options.defaults("mini"), true);
  }

  @Test
  void aRescanLeavesOutTheRowsOfAppliesTheCoordinatorHolds() throws Exception {
    Path root = tmp.resolve("root");
    try (DiskEndpoint side = open(root, "index.db")) {
      Endpoint.ChangeSet first = side.changes(0, true, List.of());
      List<ApplyResult> all = new ArrayList<>();
      all.add(side.apply(new Endpoint.Op(Endpoint.OpKind.MKDIR, "d", null, Entry.directory(), null, null)));
      all.addAll(side.writeFiles(files(50), 0));
      ApplyResult dir = side.apply(new Endpoint.Op(Endpoint.OpKind.MKDIR, "e", null, Entry.directory(), null, null));
      all.add(dir);
      assertThat(all).allMatch(r -> r.outcome() == ApplyResult.Outcome.OK && r.seq() > first.lastSeq());

      // without them, every row the applies wrote comes back, as before
      assertThat(side.changes(first.lastSeq(), true, List.of()).changes()).hasSize(52); // d, e and 50 files
      Endpoint.ChangeSet answer = side.changes(first.lastSeq(), true, List.of(), held(first.generation(), all));
      assertThat(answer.changes()).isEmpty();
      assertThat(answer.lastSeq()).isGreaterThanOrEqualTo(dir.seq());

      // a held row rewritten since has a new number: it comes back
      Files.writeString(root.resolve("d/f3"), "edited on the host");
      Endpoint.ChangeSet edited = side.changes(first.lastSeq(), true, List.of(), held(first.generation(), all));
      assertThat(edited.changes()).containsOnlyKeys("d/f3");
      // a reply that was lost is not held: its row comes back
      List<ApplyResult> lost = new ArrayList<>(all);
      lost.remove(8); // d/f7's
      assertThat(side.changes(first.lastSeq(), true, List.of(), held(first.generation(), lost)).changes())
          .containsOnlyKeys("d/f3", "d/f7");
      // held in another generation: nothing is left out
      assertThat(side.changes(first.lastSeq(), true, List.of(), held(first.generation() + 1, all)).changes())
          .hasSize(52);
    }
  }

  @Test
  void rowsHeldBeforeARestartAreNotLeftOutAfterIt() throws Exception {
    Path root = tmp.resolve("root");
    DiskEndpoint before = open(root, "index.db");
    Endpoint.ChangeSet first = before.changes(0, true, List.of());
    List<ApplyResult> written = before.writeFiles(List.of(file("a.txt", "ours"), file("b.txt", "ours too")), 0);
    // the side dies before it saves the rows (they are saved at the next answer or on close): the
    // files are on disk, and a user edits one before the side comes back
    Files.writeString(root.resolve("a.txt"), "the user's edit");
    try (DiskEndpoint after = open(root, "index.db")) {
      Endpoint.ChangeSet answer = after.changes(first.lastSeq(), true, List.of(), held(first.generation(), written));
      assertThat(answer.generation()).isNotEqualTo(first.generation());
      // the rescan gives both files the numbers the lost rows had: held ones, in the old generation
      assertThat(written.stream().map(ApplyResult::seq)).allMatch(s -> s <= answer.lastSeq());
      assertThat(answer.changes()).containsOnlyKeys("a.txt", "b.txt");
      assertThat(answer.changes().get("a.txt").hash()).isEqualTo(ContentHash.of("the user's edit".getBytes(UTF_8)));
    } finally {
      before.close();
    }
  }

  @Test
  void heldRangesAreMergedAndChecked() {
    Endpoint.Held h = Endpoint.Held.of(9, new TreeSet<>(List.of(3L, 4L, 5L, 8L, 10L, 11L)));
    assertThat(h.ranges()).containsExactly(3, 5, 8, 8, 10, 11);
    assertThat(List.of(2L, 3L, 5L, 6L, 8L, 9L, 11L, 12L).stream().filter(s -> h.holds(9, s)))
        .containsExactly(3L, 5L, 8L, 11L);
    assertThat(h.holds(8, 4)).isFalse();
    assertThat(Endpoint.Held.NONE.holds(0, 0)).isFalse();
    assertThatThrownBy(() -> new Endpoint.Held(9, new long[] {5, 3}))
        .hasMessage("held seq range: [5, 3] (expected: first <= last, above the range before)");
    assertThatThrownBy(() -> new Endpoint.Held(9, new long[] {1, 4, 4, 6}))
        .hasMessage("held seq range: [4, 6] (expected: first <= last, above the range before)");
    assertThatThrownBy(() -> new Endpoint.Held(9, new long[] {1}))
        .hasMessage("held seq ranges: 1 numbers (expected: [first, last] pairs)");
  }
}
