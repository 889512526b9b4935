package dev.thunderlink.sync.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.thunderlink.sync.SyncMode;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bugs found by long runs of {@code RandomizedSyncTest}, each replayed here on its own: two
 * real sides (or a real side and a macOS-like Jimfs side) and the coordinator between them.
 */
class MirrorSoakRegressionTest {
  @TempDir
  Path tmp;

  private FileSystem jimfs;
  private Path ra;
  private Path rb;
  private DiskEndpoint a;
  private DiskEndpoint b;
  private StateStore state;
  private SessionEngine engine;

  private void open(boolean macRemote, double safetyFraction, int safetyMinimum, Clock clock) throws Exception {
    ra = Files.createDirectories(tmp.resolve("a"));
    if (macRemote) {
      jimfs = com.google.common.jimfs.Jimfs.newFileSystem(com.google.common.jimfs.Configuration.osX().toBuilder()
          .setAttributeViews("basic", "posix", "unix").build());
      rb = Files.createDirectories(jimfs.getPath("/b"));
    } else {
      rb = Files.createDirectories(tmp.resolve("b"));
    }
    a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
    b = DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false);
    state = StateStore.open(tmp.resolve("session.db"));
    engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, a, b, state, 4096, safetyFraction, safetyMinimum, clock);
  }

  private void open() throws Exception {
    open(false, 0.9, 1000, Clock.systemUTC());
  }

  @AfterEach
  void close() throws Exception {
    if (engine != null) {
      engine.close();
      a.close();
      b.close();
      state.close();
    }
    if (jimfs != null) {
      jimfs.close();
    }
  }

  private static void write(Path p, String content) throws Exception {
    Files.createDirectories(p.getParent());
    Files.write(p, content.getBytes(UTF_8));
  }

  private static void deleteTree(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Relative path to file content (or "dir"), with the names as they are on disk. */
  private static Map<String, String> tree(Path root) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (!p.equals(root)) {
          out.put(root.relativize(p).toString(), Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "dir"
              : new String(Files.readAllBytes(p), UTF_8));
        }
      }
    }
    return out;
  }

  private void sync(boolean full) throws Exception {
    engine.runUntilStable(full, false);
  }

  @Test
  void aDirectoryReplacedByAFileRetiresItsChildrensRows() throws Exception {
    open();
    write(ra.resolve("d/x.txt"), "x");
    write(ra.resolve("d/e/y.txt"), "y");
    sync(true);
    long seq = a.changes(0, false, List.of()).lastSeq();
    deleteTree(ra.resolve("d"));
    write(ra.resolve("d"), "now a file");
    a.hintPaths(List.of("d")); // the watcher may report only the name that changed kind
    Endpoint.ChangeSet cs = a.changes(seq, false, List.of());
    assertThat(cs.changes()).containsEntry("d/x.txt", null).containsEntry("d/e", null)
        .containsEntry("d/e/y.txt", null);
    assertThat(a.snapshot()).containsOnlyKeys("d");
    assertThat(cs.errors()).isEmpty();
  }

  @Test
  void aFullRescanRetiresTheRowsUnderADirectoryReplacedByAFile() throws Exception {
    open();
    write(ra.resolve("d/x.txt"), "x");
    write(ra.resolve("d/e/y.txt"), "y");
    write(ra.resolve("kept.txt"), "k");
    sync(true);
    long seq = a.changes(0, false, List.of()).lastSeq();
    deleteTree(ra.resolve("d"));
    write(ra.resolve("d"), "now a file");
    Endpoint.ChangeSet cs = a.changes(seq, true, List.of()); // no hint: the whole tree is walked
    assertThat(cs.changes()).containsOnlyKeys("d", "d/x.txt", "d/e", "d/e/y.txt")
        .containsEntry("d/x.txt", null).containsEntry("d/e", null).containsEntry("d/e/y.txt", null);
    assertThat(a.snapshot()).containsOnlyKeys("d", "kept.txt");
    assertThat(cs.errors()).isEmpty();
  }

  @Test
  void aDirectoryReplacedByAFileIsMirroredWithoutStaleChildren() throws Exception {
    open();
    write(ra.resolve("d/x.txt"), "x");
    write(ra.resolve("d/e/y.txt"), "y");
    sync(true);
    deleteTree(ra.resolve("d"));
    write(ra.resolve("d"), "now a file");
    a.hintPaths(List.of("d"));
    sync(false);
    assertThat(tree(rb)).isEqualTo(Map.of("d", "now a file"));
    assertThat(engine.errors()).isEmpty();
    assertThat(b.snapshot()).containsOnlyKeys("d");
  }

  @Test
  void aWriteUnderAPathOurIndexStillThinksIsADirectoryHintsThatPath() throws Exception {
    open();
    write(ra.resolve("d/x.txt"), "x");
    a.changes(0, true, List.of());
    deleteTree(ra.resolve("d"));
    write(ra.resolve("d"), "now a file"); // not rescanned: the index still says d is a directory
    byte[] data = "new".getBytes(UTF_8);
    List<ApplyResult> r = a.writeFiles(List.of(new Endpoint.WholeFile("d/e/new.txt", null,
        Entry.file(ContentHash.of(data), data.length, false, 0), data)), 0);
    assertThat(r.get(0).outcome()).isEqualTo(ApplyResult.Outcome.CHANGED);
    Endpoint.ChangeSet cs = a.changes(0, false, List.of());
    assertThat(cs.errors()).isEmpty();
    assertThat(a.snapshot()).as("the stale directory is rescanned and its rows retired").containsOnlyKeys("d");
    assertThat(cs.changes().get("d").isFile()).isTrue();
  }

  @Test
  void caseOnlyDirectoryRenameKeepsTheFilesOnACaseInsensitiveSide() throws Exception {
    open(true, 0.9, 1000, Clock.systemUTC());
    write(ra.resolve("Src/a.txt"), "alpha");
    write(ra.resolve("Src/sub/b.txt"), "beta");
    write(ra.resolve("top.txt"), "top");
    sync(true);
    assertThat(tree(rb)).containsEntry("Src/a.txt", "alpha");
    Files.move(ra.resolve("Src"), ra.resolve("src"));
    sync(true);
    assertThat(tree(rb)).isEqualTo(Map.of("src", "dir", "src/a.txt", "alpha", "src/sub", "dir",
        "src/sub/b.txt", "beta", "top.txt", "top"));
    assertThat(tree(ra)).isEqualTo(tree(rb));
    assertThat(engine.errors()).isEmpty();
  }

  @Test
  void twoConflictsOnOneFileInOneSecondKeepBothCopies() throws Exception {
    open(false, 0.9, 1000, Clock.fixed(Instant.parse("2026-11-27T04:00:00Z"), ZoneOffset.UTC));
    write(ra.resolve("notes.txt"), "base");
    sync(true);
    write(ra.resolve("notes.txt"), "a1");
    write(rb.resolve("notes.txt"), "b1");
    sync(true);
    write(ra.resolve("notes.txt"), "a2");
    write(rb.resolve("notes.txt"), "b2");
    sync(true);
    Map<String, String> t = tree(ra);
    assertThat(t).isEqualTo(tree(rb));
    assertThat(t.values()).contains("a2", "b1", "b2");
    assertThat(t).containsKeys("notes.conflict-mini-20261127-040000.txt", "notes.conflict-mini-20261127-040000-2.txt");
  }

  @Test
  void aDirectoryRenameIsNotAMassDeletion() throws Exception {
    open(false, 0.5, 2, Clock.systemUTC());
    for (int i = 0; i < 20; i++) {
      write(ra.resolve("src/f" + i + ".txt"), "content " + i);
    }
    write(ra.resolve("README"), "r");
    sync(true);
    Files.move(ra.resolve("src"), ra.resolve("src2"));
    assertThatCode(() -> sync(true)).doesNotThrowAnyException();
    assertThat(tree(rb)).isEqualTo(tree(ra)).containsEntry("src2/f7.txt", "content 7").doesNotContainKey("src");
    assertThat(engine.renames()).isEqualTo(20);
  }

  @Test
  void aTrueMassDeletionStillStops() throws Exception {
    open(false, 0.5, 2, Clock.systemUTC());
    for (int i = 0; i < 20; i++) {
      write(ra.resolve("src/f" + i + ".txt"), "content " + i);
    }
    write(ra.resolve("README"), "r");
    sync(true);
    deleteTree(ra.resolve("src"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sync(true)).isInstanceOf(SessionEngine.SafetyStop.class);
  }

  @Test
  void aDirectoryRemovedUnderOneFileOfABatchFailsOnlyThatFileAsARace() throws Exception {
    open();
    Files.createDirectories(ra.resolve("d0/e"));
    Files.createDirectories(ra.resolve("d1"));
    a.afterTempWritten = tmp -> {
      if (tmp.getParent().endsWith("e")) {
        try {
          deleteTree(tmp.getParent()); // the user's rm -r lands while the file is being installed
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    };
    byte[] x = "x".getBytes(UTF_8);
    byte[] y = "y".getBytes(UTF_8);
    long past = System.currentTimeMillis() - 60_000;
    List<ApplyResult> r = a.writeFiles(List.of(
        new Endpoint.WholeFile("d0/e/x.txt", null, Entry.file(ContentHash.of(x), 1, true, past), x),
        new Endpoint.WholeFile("d1/y.txt", null, Entry.file(ContentHash.of(y), 1, false, past), y)), 0);
    assertThat(r).extracting(ApplyResult::outcome).containsExactly(ApplyResult.Outcome.CHANGED,
        ApplyResult.Outcome.OK);
    assertThat(Files.readString(ra.resolve("d1/y.txt"))).isEqualTo("y");
  }

  @Test
  void aDirectoryRemovedWhileAnUploadCommitsIsARace() throws Exception {
    open();
    Files.createDirectories(ra.resolve("d0/e"));
    a.afterTempWritten = tmp -> {
      try {
        deleteTree(tmp.getParent());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    byte[] x = "x".getBytes(UTF_8);
    ApplyResult r;
    try (Endpoint.FileUpload up = a.beginWrite("d0/e/x.txt", null,
        Entry.file(ContentHash.of(x), 1, true, System.currentTimeMillis() - 60_000), 4096)) {
      up.write(0, x);
      r = up.commit();
    }
    assertThat(r.outcome()).isEqualTo(ApplyResult.Outcome.CHANGED);
    assertThat(ra.resolve("d0")).isEmptyDirectory();
  }

  @Test
  void aFileTurnedIntoADirectoryJustBeforeItIsReplacedIsARace() throws Exception {
    open();
    byte[] data = "incoming".getBytes(UTF_8);
    Path dest = ra.resolve("f.txt");
    a.beforeInstall = unchecked(() -> Files.createDirectory(dest)); // the user's mkdir lands between the re-check and the rename
    List<ApplyResult> r = a.writeFiles(List.of(new Endpoint.WholeFile("f.txt", null,
        Entry.file(ContentHash.of(data), data.length, false, 0), data)), 0);
    assertThat(r.get(0).outcome()).isEqualTo(ApplyResult.Outcome.CHANGED);
    assertThat(dest).isDirectory();
    try (Stream<Path> s = Files.list(ra)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("f.txt");
    }
  }

  /**
   * A new file is installed by a rename that refuses to replace: a file the user creates at
   * its name between the re-check and the rename is kept, not overwritten (the re-check then
   * plain rename did overwrite it), and the incoming copy is reconciled again.
   */
  @Test
  void aFileTheUserCreatesAtANewFilesNameJustBeforeItIsInstalledIsKept() throws Exception {
    open();
    byte[] data = "incoming".getBytes(UTF_8);
    Path dest = ra.resolve("f.txt");
    a.beforeInstall = unchecked(() -> Files.writeString(dest, "the user's own")); // lands between the re-check and the rename
    List<ApplyResult> r = a.writeFiles(List.of(new Endpoint.WholeFile("f.txt", null,
        Entry.file(ContentHash.of(data), data.length, false, 0), data)), 0);
    assertThat(r.get(0).outcome()).isEqualTo(ApplyResult.Outcome.CHANGED);
    assertThat(r.get(0).message()).contains("now exists");
    assertThat(dest).hasContent("the user's own");
    try (Stream<Path> s = Files.list(ra)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("f.txt"); // no temporary file left
    }
  }

  /**
   * On a file system without the exclusive rename, the first new file finds out: it is
   * re-checked with a stat as before (a user's file that appeared is kept), and later new files
   * go that way without trying the exclusive rename again.
   */
  @Test
  void withoutAnExclusiveRenameNewFilesAreReCheckedAndTheAttemptIsNotRepeated() throws Exception {
    open();
    AtomicInteger attempts = new AtomicInteger();
    a.exclusiveRenamer = (from, to) -> {
      attempts.incrementAndGet();
      return ExclusiveRename.Result.UNSUPPORTED;
    };
    Path dest = ra.resolve("f.txt");
    a.beforeInstall = unchecked(() -> Files.writeString(dest, "the user's own"));
    byte[] data = "incoming".getBytes(UTF_8);
    List<ApplyResult> r = a.writeFiles(List.of(new Endpoint.WholeFile("f.txt", null,
        Entry.file(ContentHash.of(data), data.length, false, 0), data)), 0);
    assertThat(r.get(0).outcome()).isEqualTo(ApplyResult.Outcome.CHANGED);
    assertThat(r.get(0).message()).contains("now exists");
    assertThat(dest).hasContent("the user's own");

    a.beforeInstall = () -> { };
    r = a.writeFiles(List.of(new Endpoint.WholeFile("g.txt", null,
        Entry.file(ContentHash.of(data), data.length, false, 0), data)), 0);
    assertThat(r.get(0).outcome()).isEqualTo(ApplyResult.Outcome.OK);
    assertThat(ra.resolve("g.txt")).hasContent("incoming");
    assertThat(attempts).hasValue(1);
    try (Stream<Path> s = Files.list(ra)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("f.txt", "g.txt");
    }
  }

  /** A file-system step for a test hook. */
  private interface IoStep {
    void run() throws java.io.IOException;
  }

  private static Runnable unchecked(IoStep step) {
    return () -> {
      try {
        step.run();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
  }
}
