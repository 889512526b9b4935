package dev.thunderlink.sync.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scanner and applier of one side: stat-first scanning, re-check before clobbering, echo suppression. */
class DiskEndpointTest {
  @TempDir
  Path tmp;

  private Path root;
  private DiskEndpoint side;

  @BeforeEach
  void open() throws Exception {
    root = Files.createDirectories(tmp.resolve("root"));
    side = DiskEndpoint.open(root, tmp.resolve("index.db"), DiskEndpoint.Options.defaults("book"), false);
  }

  @AfterEach
  void close() throws Exception {
    side.close();
  }

  private Path old(Path p) throws Exception {
    Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() - 60_000)); // not "racy"
    return p;
  }

  private void assertNoTempFiles() throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(IgnoreRules::isTemp);
    }
  }

  @Test
  void temporaryNamesCarryThePrefixTheScannerAndWatcherSkipAndDoNotRepeat() {
    java.util.Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String n = DiskEndpoint.tempName();
      assertThat(n).startsWith(IgnoreRules.TEMP_PREFIX);
      assertThat(TreeWatcher.isOwnTempFile(root.resolve(n))).isTrue();
      names.add(n);
    }
    assertThat(names).hasSize(10_000);
  }

  @Test
  void rescanHashesOnlyWhatStatSaysChanged() throws Exception {
    for (int i = 0; i < 100; i++) {
      old(Files.write(root.resolve("f" + i), ("v" + i).getBytes(UTF_8)));
    }
    side.changes(0, true, List.of());
    assertThat(side.filesHashed.get()).isEqualTo(100);
    old(Files.write(root.resolve("f7"), "changed".getBytes(UTF_8)));
    Endpoint.ChangeSet cs = side.changes(0, true, List.of());
    assertThat(side.filesHashed.get()).isEqualTo(101);
    assertThat(cs.changes()).hasSize(100);
    Endpoint.ChangeSet again = side.changes(cs.lastSeq(), true, List.of());
    assertThat(again.changes()).isEmpty();
    assertThat(side.filesHashed.get()).isEqualTo(101);
  }

  /**
   * The answer above a sequence number comes from the rows numbered above it, not from a walk
   * of the whole index: the same rows either way, in path order, also across a restart (the
   * numbers read back from the store) and for a row rewritten in place.
   */
  @Test
  void theRowsAboveASequenceNumberAreTheChangesSinceInPathOrder() throws Exception {
    for (int i = 0; i < 300; i++) {
      old(Files.write(root.resolve(String.format("f%03d", i)), ("v" + i).getBytes(UTF_8)));
    }
    Endpoint.ChangeSet first = side.changes(0, true, List.of());
    assertThat(first.changes()).hasSize(300);
    old(Files.write(root.resolve("f200"), "edited".getBytes(UTF_8)));
    Files.delete(root.resolve("f100"));
    old(Files.write(root.resolve("f007"), "edited too".getBytes(UTF_8)));
    Endpoint.ChangeSet some = side.changes(first.lastSeq(), true, List.of());
    assertThat(some.changes().keySet()).containsExactly("f007", "f100", "f200");
    assertThat(some.changes().get("f100")).isNull();
    assertThat(side.changes(some.lastSeq(), true, List.of()).changes()).isEmpty();
    // a time changed alone rewrites its row with a new number too
    Files.setLastModifiedTime(root.resolve("f250"), FileTime.fromMillis(1_000_000_000_000L));
    assertThat(side.changes(some.lastSeq(), true, List.of()).changes()).containsOnlyKeys("f250");
    side.close();
    side = DiskEndpoint.open(root, tmp.resolve("index.db"), DiskEndpoint.Options.defaults("book"), false);
    Endpoint.ChangeSet reopened = side.changes(first.lastSeq(), true, List.of());
    assertThat(reopened.changes().keySet()).containsExactly("f007", "f100", "f200", "f250");
    assertThat(side.changes(0, false, List.of()).changes()).hasSize(300).containsKey("f000");
  }

  @Test
  void filesHashedOnTheHashingThreadsLandAsIfHashedInLine() throws Exception {
    // Jimfs lists a directory in the same order on every machine: here the two names with one
    // NFC form come after more than HASH_INLINE files, so both go to the hashing threads
    try (java.nio.file.FileSystem fs = com.google.common.jimfs.Jimfs.newFileSystem(
        com.google.common.jimfs.Configuration.unix())) {
      Path r = Files.createDirectories(fs.getPath("/r"));
      java.util.Random rnd = new java.util.Random(7);
      java.util.Map<String, byte[]> written = new java.util.TreeMap<>();
      int n = 3 * DiskEndpoint.HASH_INLINE;
      for (int i = 0; i < n; i++) {
        byte[] data = new byte[4097 + rnd.nextInt(20_000)]; // above the block size: fingerprinted
        rnd.nextBytes(data);
        old(Files.write(r.resolve("f" + i), data));
        written.put("f" + i, data);
      }
      old(Files.write(r.resolve("z-caf\u00e9"), "nfc".getBytes(UTF_8)));
      old(Files.write(r.resolve("z-cafe\u0301"), "nfd".getBytes(UTF_8)));
      try (DiskEndpoint s = DiskEndpoint.open(r, tmp.resolve("jimfs.db"), DiskEndpoint.Options.defaults("j"), false)) {
        s.fingerprintBlockSize(4096);
        Endpoint.ChangeSet cs = s.changes(0, true, List.of());
        assertThat(cs.collisions()).containsExactly("z-caf\u00e9");
        assertThat(cs.changes()).containsOnlyKeys(written.keySet());
        written.forEach((name, data) -> assertThat(cs.changes().get(name).hash()).as(name).isEqualTo(ContentHash.of(data)));
        // the fingerprints taken while hashing were kept: a delta needs no read of the file
        for (String name : written.keySet()) {
          s.blocks(name, 4096);
        }
        assertThat(s.blockListsRead.get()).isZero();
        assertThat(s.changes(cs.lastSeq(), true, List.of()).changes()).isEmpty();
      }
    }
  }

  @Test
  void aChangeTheWatchMissedWhileRegisteringIsFoundOnceItCoversTheTree() throws Exception {
    Path f = old(Files.write(root.resolve("a.txt"), "first".getBytes(UTF_8)));
    java.util.concurrent.CountDownLatch register = new java.util.concurrent.CountDownLatch(1);
    TreeWatcher.beforeRegistering = unused -> {
      try {
        register.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    java.util.concurrent.atomic.AtomicInteger heard = new java.util.concurrent.atomic.AtomicInteger();
    DiskEndpoint.Options watched = new DiskEndpoint.Options("book", List.of(), false, false, false, true,
        java.time.Duration.ofMillis(2), java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(10));
    try (DiskEndpoint w = DiskEndpoint.open(root, tmp.resolve("watched.db"), watched, false)) {
      w.onChange(heard::incrementAndGet);
      // the first scan runs while the watch is not registered yet (open did not wait for it)
      Endpoint.ChangeSet first = w.changes(0, false, List.of());
      assertThat(first.changes()).containsKey("a.txt");
      old(Files.write(f, "second, unseen by any watch".getBytes(UTF_8)));
      register.countDown();
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> heard.get() > 0);
      Endpoint.ChangeSet next = w.changes(first.lastSeq(), false, List.of());
      assertThat(next.changes()).containsKey("a.txt");
      assertThat(next.changes().get("a.txt").hash()).isEqualTo(ContentHash.of("second, unseen by any watch".getBytes(UTF_8)));
    } finally {
      TreeWatcher.beforeRegistering = unused -> { };
      register.countDown();
    }
  }

  /**
   * A burst of installs pauses the watch (each file would cost it four or five events of our
   * own); a user's edit made meanwhile is found by the next changes call, which watches the
   * tree again first, and none of the installed files comes back as a change of this side.
   */
  @Test
  void aBurstOfInstallsPausesTheWatchAndAnEditMadeMeanwhileIsStillFound() throws Exception {
    Path user = old(Files.write(root.resolve("user.txt"), "before".getBytes(UTF_8)));
    DiskEndpoint.Options watched = new DiskEndpoint.Options("book", List.of(), false, false, false, true,
        java.time.Duration.ofMillis(2), java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(10));
    try (DiskEndpoint w = DiskEndpoint.open(root, tmp.resolve("watched.db"), watched, false)) {
      long seq = w.changes(0, true, List.of()).lastSeq();
      long past = System.currentTimeMillis() - 60_000;
      List<DiskEndpoint.StagedFile> files = new java.util.ArrayList<>();
      for (int i = 0; i < DiskEndpoint.PAUSE_WATCH_FILES; i++) {
        String content = "file " + i;
        String staged = DiskEndpoint.tempName();
        Files.writeString(root.resolve(IgnoreRules.bulkPartialName(staged)), content);
        files.add(new DiskEndpoint.StagedFile("f" + i + ".txt", null,
            Entry.file(ContentHash.of(content.getBytes(UTF_8)), content.length(), false, past), staged));
      }
      List<ApplyResult> r = w.installPushed(files, 0);
      assertThat(r).extracting(ApplyResult::outcome).containsOnly(ApplyResult.Outcome.OK);
      assertThat(w.watchPauses()).as("paused by the burst").isEqualTo(1);
      old(Files.write(user, "edited while the watch was paused".getBytes(UTF_8)));
      long installed = r.stream().mapToLong(ApplyResult::seq).max().orElseThrow();
      Endpoint.ChangeSet next = w.changes(installed, false, List.of());
      assertThat(w.watchPaused()).as("watched again by the changes call").isFalse();
      assertThat(next.changes()).as("the edit, and no installed file").containsOnlyKeys("user.txt");
      assertThat(next.changes().get("user.txt").hash())
          .isEqualTo(ContentHash.of("edited while the watch was paused".getBytes(UTF_8)));

      // the burst is over once the watch is back: an edit installed within the burst's quiet
      // second does not pause it again (it did, and then every small install after a large sync,
      // less than a second apart, paused the watch and made the next cycle watch the whole tree
      // again and rescan it: 0.3-0.6 s a cycle for 20,000 files)
      String small = DiskEndpoint.tempName();
      Files.writeString(root.resolve(IgnoreRules.bulkPartialName(small)), "one more");
      List<ApplyResult> one = w.installPushed(List.of(new DiskEndpoint.StagedFile("one-more.txt", null,
          Entry.file(ContentHash.of("one more".getBytes(UTF_8)), 8, false, past), small)), 0);
      assertThat(one).extracting(ApplyResult::outcome).containsOnly(ApplyResult.Outcome.OK);
      assertThat(w.watchPaused()).as("not paused by one file after the burst").isFalse();
      assertThat(w.watchPauses()).isEqualTo(1);

      Files.writeString(root.resolve("later.txt"), "seen by the watch");
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
          .until(() -> w.hintedPaths().contains("later.txt"));
    }
  }

  @Test
  void aSameSizeRewriteWithItsMtimePutBackIsStillSeen() throws Exception {
    Path f = old(Files.write(root.resolve("same.txt"), "version-1".getBytes(UTF_8)));
    FileTime mtime = Files.getLastModifiedTime(f);
    Endpoint.ChangeSet first = side.changes(0, true, List.of());
    Files.write(f, "version-2".getBytes(UTF_8)); // same size
    Files.setLastModifiedTime(f, mtime); // and the same mtime: only the ctime tells
    Endpoint.ChangeSet next = side.changes(first.lastSeq(), true, List.of());
    assertThat(next.changes().get("same.txt").hash()).isEqualTo(ContentHash.of("version-2".getBytes(UTF_8)));
  }

  @Test
  void keysRecordedBeforeTheyWereNumbersAreRewrittenWithoutHashing() throws Exception {
    Path f = old(Files.write(root.resolve("kept.txt"), "kept".getBytes(UTF_8)));
    long seq = side.changes(0, true, List.of()).lastSeq();
    side.close();
    // the key as scans wrote it before: the file key, then the ctime as FileTime's text
    java.nio.file.attribute.BasicFileAttributes a =
        Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    String legacy = a.fileKey() + "/" + Files.getAttribute(f, "unix:ctime", java.nio.file.LinkOption.NOFOLLOW_LINKS);
    try (StateStore store = StateStore.open(tmp.resolve("index.db"))) {
      IndexRecord r = store.loadEntries().get("kept.txt");
      assertThat(r.statKey()).doesNotStartWith("(");
      store.writeEntries(List.of(new IndexRecord(r.path(), r.diskPath(), r.entry(), r.statSize(), r.statMtimeNanos(),
          legacy, r.seq())), seq);
    }
    side = DiskEndpoint.open(root, tmp.resolve("index.db"), DiskEndpoint.Options.defaults("book"), false);
    assertThat(side.changes(seq, true, List.of()).changes()).as("no change").isEmpty();
    assertThat(side.filesHashed.get()).as("not hashed again").isZero();
    side.close();
    try (StateStore store = StateStore.open(tmp.resolve("index.db"))) {
      assertThat(store.loadEntries().get("kept.txt").statKey()).as("rewritten").doesNotStartWith("(");
    }
    side = DiskEndpoint.open(root, tmp.resolve("index.db"), DiskEndpoint.Options.defaults("book"), false);
  }

  @Test
  void writeRefusesToClobberAFileChangedSinceItWasScanned() throws Exception {
    Path f = old(Files.write(root.resolve("doc.txt"), "scanned".getBytes(UTF_8)));
    Entry scanned = side.changes(0, true, List.of()).changes().get("doc.txt");
    Files.write(f, "edited after the scan".getBytes(UTF_8)); // the user's edit
    byte[] incoming = "from the other side".getBytes(UTF_8);
    Entry target = Entry.file(ContentHash.of(incoming), incoming.length, false, 0);
    ApplyResult r;
    try (Endpoint.FileUpload up = side.beginWrite("doc.txt", scanned, target, 4096)) {
      up.write(0, incoming);
      r = up.commit();
    }
    assertThat(r.outcome()).isEqualTo(ApplyResult.Outcome.CHANGED);
    assertThat(Files.readString(f)).isEqualTo("edited after the scan");
    assertNoTempFiles();
    // and a delete is refused the same way
    assertThat(side.apply(new Endpoint.Op(Endpoint.OpKind.DELETE, "doc.txt", scanned, null, null, null)).outcome())
        .isEqualTo(ApplyResult.Outcome.CHANGED);
    assertThat(Files.readString(f)).isEqualTo("edited after the scan");
  }

  @Test
  void bytesThatDoNotMatchTheTargetHashNeverReachTheRealName() throws Exception {
    Entry target = Entry.file(ContentHash.of("promised".getBytes(UTF_8)), 8, false, 0);
    ApplyResult r;
    try (Endpoint.FileUpload up = side.beginWrite("new.txt", null, target, 4096)) {
      up.write(0, "modified".getBytes(UTF_8)); // the source changed while being sent
      r = up.commit();
    }
    assertThat(r.outcome()).isEqualTo(ApplyResult.Outcome.CHANGED);
    assertThat(r.message()).contains("changed while it was being sent");
    assertThat(root.resolve("new.txt")).doesNotExist();
    assertNoTempFiles();
  }

  @Test
  void ownWritesAreRecordedSoARescanFindsNothingNew() throws Exception {
    long seq = side.changes(0, true, List.of()).lastSeq();
    byte[] data = "hello".getBytes(UTF_8);
    Entry target = Entry.file(ContentHash.of(data), data.length, true, System.currentTimeMillis() - 60_000);
    try (Endpoint.FileUpload up = side.beginWrite("a.sh", null, target, 4096)) {
      up.write(0, data);
      assertThat(up.commit().outcome()).isEqualTo(ApplyResult.Outcome.OK);
    }
    assertThat(DiskEndpoint.isExecutable(root.resolve("a.sh"))).isTrue();
    Endpoint.ChangeSet echo = side.changes(seq, true, List.of());
    assertThat(echo.changes()).containsOnlyKeys("a.sh"); // the applier's own record, reported once
    long hashed = side.filesHashed.get();
    Endpoint.ChangeSet quiet = side.changes(echo.lastSeq(), true, List.of());
    assertThat(quiet.changes()).isEmpty();
    assertThat(side.filesHashed.get()).as("our own write is not re-hashed").isEqualTo(hashed);
  }

  /**
   * The watcher's one "created" event of the applier's own rename is dropped (it was recorded
   * when made: rescanning it cost two stats a file and woke the workstation for nothing), while
   * a user's write right after it, to the same file or another, is still rescanned.
   */
  @Test
  void theWatchersEventForOurOwnRenameIsDroppedButAUsersWriteAfterItIsNot() throws Exception {
    side.close();
    DiskEndpoint.Options d = DiskEndpoint.Options.defaults("book");
    side = DiskEndpoint.open(root, tmp.resolve("index.db"), new DiskEndpoint.Options(d.deviceName(), List.of(), false,
        false, false, true, d.debounce(), d.maxDelay(), d.macosLatency()), false);
    org.junit.jupiter.api.Assumptions.assumeFalse(System.getProperty("os.name").toLowerCase().contains("mac"),
        "FSEvents coalesces by path: there every event is rescanned");
    side.changes(0, true, List.of());
    java.util.concurrent.atomic.AtomicInteger probes = new java.util.concurrent.atomic.AtomicInteger();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).pollInterval(java.time.Duration.ofMillis(50))
        .until(() -> { // the watch is registered once a probe file is reported
          Files.writeString(root.resolve("probe-" + probes.incrementAndGet()), "probe");
          return side.hintedPaths().stream().anyMatch(p -> p.startsWith("probe-"));
        });
    byte[] data = "ours".getBytes(UTF_8);
    Entry target = Entry.file(ContentHash.of(data), data.length, false, System.currentTimeMillis() - 60_000);
    assertThat(side.writeFiles(List.of(new Endpoint.WholeFile("ours.txt", null, target, data)), 0))
        .extracting(ApplyResult::outcome).containsExactly(ApplyResult.Outcome.OK);
    Files.writeString(root.resolve("theirs.txt"), "a user's file after ours");
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
        .until(() -> side.hintedPaths().contains("theirs.txt"));
    assertThat(side.hintedPaths()).doesNotContain("ours.txt");
    Files.writeString(root.resolve("ours.txt"), "a user's edit of ours");
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
        .until(() -> side.hintedPaths().contains("ours.txt"));
    assertThat(side.changes(0, false, List.of()).changes().get("ours.txt").hash())
        .isEqualTo(ContentHash.of("a user's edit of ours".getBytes(UTF_8)));
  }

  @Test
  void leftoverTempFilesFromAKilledApplyAreSweptOnStart() throws Exception {
    side.close();
    Files.write(root.resolve(IgnoreRules.TEMP_PREFIX + "dead"), "half".getBytes(UTF_8));
    side = DiskEndpoint.open(root, tmp.resolve("index.db"), DiskEndpoint.Options.defaults("book"), false);
    assertThat(side.changes(0, false, List.of()).changes()).isEmpty();
    assertNoTempFiles();
  }

  @Test
  void unknownPathsAndEscapesAreRejected() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() ->
        side.apply(new Endpoint.Op(Endpoint.OpKind.MKDIR, "../outside", null, Entry.directory(), null, null)))
        .hasMessage("path: ../outside (expected: no empty, '.' or '..' segments)");
  }

  /**
   * The rows of a burst of writes (an initial sync's 20,000 files on the host) wait for the next
   * changes call instead of costing the writer a transaction every few hundred files; a crash
   * before that call costs a re-hash of those files, not their content.
   */
  @Test
  void theRowsOfABurstOfWritesWaitForTheNextChangesCallAndACrashCostsARehash() throws Exception {
    side.changes(0, true, List.of());
    List<Endpoint.WholeFile> files = new java.util.ArrayList<>();
    for (int i = 0; i < 1500; i++) {
      byte[] b = ("file " + i).getBytes(UTF_8);
      files.add(new Endpoint.WholeFile("f" + i, null, Entry.file(ContentHash.of(b), b.length, false, 0), b));
    }
    assertThat(side.writeFiles(files, 0)).allMatch(r -> r.outcome() == ApplyResult.Outcome.OK);
    assertThat(indexRows()).as("rows written by the writes themselves").isZero();

    // what a kill -9 now leaves: the database as it is, the files on disk
    Path crashed = Files.createDirectories(tmp.resolve("crashed"));
    for (String f : new String[] {"index.db", "index.db-wal"}) {
      if (Files.exists(tmp.resolve(f))) {
        Files.copy(tmp.resolve(f), crashed.resolve(f));
      }
    }
    try (DiskEndpoint after = DiskEndpoint.open(root, crashed.resolve("index.db"), DiskEndpoint.Options.defaults("book"),
        false)) {
      Endpoint.ChangeSet cs = after.changes(0, true, List.of());
      assertThat(after.filesHashed.get()).isEqualTo(1500);
      assertThat(cs.changes()).hasSize(1500);
      assertThat(cs.changes().get("f7").hash()).isEqualTo(ContentHash.of("file 7".getBytes(UTF_8)));
    }

    side.changes(0, false, List.of());
    assertThat(indexRows()).as("rows written at the next changes call").isEqualTo(1500);
  }

  private long indexRows() throws Exception {
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + tmp.resolve("index.db"));
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM entries")) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  @Test
  void writingManySmallFilesAsksForFreeSpaceOnlyNowAndThen() throws Exception {
    // asked per file, the file system's free-space query was 40% of the host's write time
    Files.createDirectories(root.resolve("d"));
    side.changes(0, true, List.of());
    List<Endpoint.WholeFile> files = new java.util.ArrayList<>();
    for (int i = 0; i < 200; i++) {
      byte[] b = ("file " + i).getBytes(UTF_8);
      files.add(new Endpoint.WholeFile("d/f" + i, null, Entry.file(ContentHash.of(b), b.length, false, 0), b));
    }
    assertThat(side.writeFiles(files, 0)).allMatch(r -> r.outcome() == ApplyResult.Outcome.OK);
    assertThat(side.freeSpace.queries.get()).as("not once per file").isLessThan(50);
  }

  /** A file larger than one write's slice arrives whole, and so does an empty one. */
  @Test
  void writeFilesWritesLargeAndEmptyFilesWhole() throws Exception {
    byte[] big = new byte[1024 * 1024 + 17];
    new java.util.Random(7).nextBytes(big);
    byte[] empty = new byte[0];
    List<ApplyResult> r = side.writeFiles(List.of(
        new Endpoint.WholeFile("big.bin", null, Entry.file(ContentHash.of(big), big.length, false, 0), big),
        new Endpoint.WholeFile("empty", null, Entry.file(ContentHash.of(empty), 0, false, 0), empty)), 0);
    assertThat(r).extracting(ApplyResult::outcome).containsOnly(ApplyResult.Outcome.OK);
    assertThat(Files.readAllBytes(root.resolve("big.bin"))).isEqualTo(big);
    assertThat(Files.size(root.resolve("empty"))).isZero();
    assertNoTempFiles();
  }

  @Test
  void writeFilesChecksEachFileOnItsOwn() throws Exception {
    Path edited = old(Files.write(root.resolve("edited.txt"), "scanned".getBytes(UTF_8)));
    Entry scanned = side.changes(0, true, List.of()).changes().get("edited.txt");
    Files.write(edited, "the user's edit".getBytes(UTF_8));
    byte[] one = "one".getBytes(UTF_8);
    byte[] two = "two".getBytes(UTF_8);
    byte[] exec = "#!/bin/sh".getBytes(UTF_8);
    long past = System.currentTimeMillis() - 60_000; // not "racy": a rescan trusts the stat
    List<ApplyResult> r = side.writeFiles(List.of(
        new Endpoint.WholeFile("one.txt", null, Entry.file(ContentHash.of(one), one.length, false, past), one),
        new Endpoint.WholeFile("edited.txt", scanned, Entry.file(ContentHash.of(two), two.length, false, 0), two),
        new Endpoint.WholeFile("bad.txt", null, Entry.file(ContentHash.of(one), one.length, false, 0), two),
        new Endpoint.WholeFile("run.sh", null, Entry.file(ContentHash.of(exec), exec.length, true, past), exec),
        new Endpoint.WholeFile("nodir/x.txt", null, Entry.file(ContentHash.of(one), one.length, false, 0), one)), 0);
    assertThat(r).extracting(ApplyResult::outcome).containsExactly(ApplyResult.Outcome.OK,
        ApplyResult.Outcome.CHANGED, ApplyResult.Outcome.CHANGED, ApplyResult.Outcome.OK, ApplyResult.Outcome.CHANGED);
    assertThat(Files.readString(root.resolve("one.txt"))).isEqualTo("one");
    assertThat(Files.readString(edited)).as("never clobbered").isEqualTo("the user's edit");
    assertThat(r.get(2).message()).contains("changed while it was being sent");
    assertThat(root.resolve("bad.txt")).doesNotExist();
    assertThat(DiskEndpoint.isExecutable(root.resolve("run.sh"))).isTrue();
    assertThat(DiskEndpoint.isExecutable(root.resolve("one.txt"))).isFalse();
    assertThat(r.get(4).message()).contains("parent directory is missing");
    assertNoTempFiles();
    long hashed = side.filesHashed.get();
    Endpoint.ChangeSet cs = side.changes(0, true, List.of());
    assertThat(cs.changes().get("one.txt")).isEqualTo(r.get(0).result());
    assertThat(side.filesHashed.get()).as("only the user's edit is hashed again").isEqualTo(hashed + 1);
  }

  /** A copy pushed beside {@code path} (as the bulk plane leaves one); returns its staged path. */
  private String stage(String path, String content, boolean exec) throws Exception {
    String staged = (path.contains("/") ? path.substring(0, path.lastIndexOf('/') + 1) : "") + DiskEndpoint.tempName();
    Path p = Files.writeString(root.resolve(staged), content);
    if (exec) {
      DiskEndpoint.setExecutable(p, true);
    }
    return staged;
  }

  @Test
  void installStagedChecksEachCopyOnItsOwnAndRemovesTheOnesItRefuses() throws Exception {
    Path edited = old(Files.write(root.resolve("edited.txt"), "scanned".getBytes(UTF_8)));
    Entry scanned = side.changes(0, true, List.of()).changes().get("edited.txt");
    Files.write(edited, "the user's edit".getBytes(UTF_8));
    byte[] one = "one".getBytes(UTF_8);
    byte[] exec = "#!/bin/sh".getBytes(UTF_8);
    long past = System.currentTimeMillis() - 60_000;
    Entry oneEntry = Entry.file(ContentHash.of(one), one.length, false, past);
    List<ApplyResult> r = side.installStaged(List.of(
        new DiskEndpoint.StagedFile("one.txt", null, oneEntry, stage("one.txt", "one", true)),
        new DiskEndpoint.StagedFile("edited.txt", scanned, oneEntry, stage("edited.txt", "one", false)),
        new DiskEndpoint.StagedFile("bad.txt", null, oneEntry, stage("bad.txt", "two", false)),
        new DiskEndpoint.StagedFile("run.sh", null, Entry.file(ContentHash.of(exec), exec.length, true, past),
            stage("run.sh", "#!/bin/sh", false)),
        new DiskEndpoint.StagedFile("gone.txt", null, oneEntry, DiskEndpoint.tempName())), 0);
    assertThat(r).extracting(ApplyResult::outcome).containsExactly(ApplyResult.Outcome.OK,
        ApplyResult.Outcome.CHANGED, ApplyResult.Outcome.CHANGED, ApplyResult.Outcome.OK, ApplyResult.Outcome.CHANGED);
    assertThat(Files.readString(root.resolve("one.txt"))).isEqualTo("one");
    assertThat(DiskEndpoint.isExecutable(root.resolve("one.txt"))).as("the target's mode, not the copy's").isFalse();
    assertThat(Files.getLastModifiedTime(root.resolve("one.txt")).toMillis()).isEqualTo(past);
    assertThat(DiskEndpoint.isExecutable(root.resolve("run.sh"))).isTrue();
    assertThat(Files.readString(edited)).as("never clobbered").isEqualTo("the user's edit");
    assertThat(r.get(2).message()).contains("changed while it was being sent");
    assertThat(r.get(4).message()).contains("pushed copy is gone");
    assertThat(root.resolve("bad.txt")).doesNotExist();
    assertNoTempFiles();
    long hashed = side.filesHashed.get();
    assertThat(side.changes(0, true, List.of()).changes().get("one.txt")).isEqualTo(r.get(0).result());
    assertThat(side.filesHashed.get()).as("only the user's edit is hashed again").isEqualTo(hashed + 1);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> side.installStaged(List.of(
        new DiskEndpoint.StagedFile("a/x.txt", null, oneEntry, "b/" + DiskEndpoint.tempName())), 0))
        .hasMessageStartingWith("staged path: b/.thunderlink-tmp-").hasMessageEndingWith(
            " (expected: a name starting with .thunderlink-tmp- in the directory of a/x.txt)");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> side.installStaged(List.of(
        new DiskEndpoint.StagedFile("x.txt", null, oneEntry, "x.txt")), 0))
        .hasMessage("staged path: x.txt (expected: a name starting with .thunderlink-tmp- in the directory of x.txt)");
  }

  /**
   * A staged push leaves its verified copy at the bulk plane's partial name of the staged path:
   * it is renamed from there straight to its destination; a copy found at the staged path
   * itself (a bulk plane that renamed it there) is installed too.
   */
  @Test
  void installPushedRenamesTheCopyTheBulkPlaneStagedStraightIntoPlace() throws Exception {
    side.changes(0, true, List.of());
    long past = System.currentTimeMillis() - 60_000;
    byte[] one = "one".getBytes(UTF_8);
    Entry oneEntry = Entry.file(ContentHash.of(one), one.length, false, past);
    String atPartial = DiskEndpoint.tempName();
    Files.writeString(root.resolve(IgnoreRules.bulkPartialName(atPartial)), "one");
    String wrong = DiskEndpoint.tempName();
    Files.writeString(root.resolve(IgnoreRules.bulkPartialName(wrong)), "two");
    List<ApplyResult> r = side.installPushed(List.of(
        new DiskEndpoint.StagedFile("staged.txt", null, oneEntry, atPartial),
        new DiskEndpoint.StagedFile("renamed.txt", null, oneEntry, stage("renamed.txt", "one", false)),
        new DiskEndpoint.StagedFile("bad.txt", null, oneEntry, wrong)), 0);
    assertThat(r).extracting(ApplyResult::outcome).containsExactly(ApplyResult.Outcome.OK, ApplyResult.Outcome.OK,
        ApplyResult.Outcome.CHANGED);
    assertThat(root.resolve("staged.txt")).hasContent("one");
    assertThat(Files.getLastModifiedTime(root.resolve("staged.txt")).toMillis()).isEqualTo(past);
    assertThat(root.resolve("renamed.txt")).hasContent("one");
    assertThat(root.resolve("bad.txt")).doesNotExist();
    assertNoTempFiles();
    long hashed = side.filesHashed.get();
    assertThat(side.changes(0, true, List.of()).changes()).containsOnlyKeys("staged.txt", "renamed.txt");
    assertThat(side.filesHashed.get()).as("what was installed is not hashed again").isEqualTo(hashed);
  }

  @Test
  void writeFilesKeepsTheBlockFingerprintsOfWhatItWrote() throws Exception {
    byte[] big = new byte[5 * 4096 + 10];
    new java.util.Random(7).nextBytes(big);
    byte[] small = "tiny".getBytes(UTF_8);
    long past = System.currentTimeMillis() - 60_000;
    List<ApplyResult> r = side.writeFiles(List.of(
        new Endpoint.WholeFile("big.bin", null, Entry.file(ContentHash.of(big), big.length, false, past), big),
        new Endpoint.WholeFile("small.txt", null, Entry.file(ContentHash.of(small), small.length, false, past), small)),
        4096);
    assertThat(r).extracting(ApplyResult::outcome).containsOnly(ApplyResult.Outcome.OK);
    assertThat(side.blocks("big.bin", 4096).blockHashes())
        .as("the same fingerprints a read of the file gives").isEqualTo(ContentHash.blocksOf(root.resolve("big.bin"), 4096));
    assertThat(side.blockListsRead.get()).as("kept when written, not read back").isZero();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> side.writeFiles(List.of(), 100))
        .hasMessage("block size: 100 (expected: 0 or >= 4096)");
  }

  @Test
  void readFilesServesWholeFilesAndMarksTheOnesThatChanged() throws Exception {
    old(Files.write(root.resolve("a.txt"), "alpha".getBytes(UTF_8)));
    Path b = old(Files.write(root.resolve("b.txt"), "beta".getBytes(UTF_8)));
    Endpoint.ChangeSet cs = side.changes(0, true, List.of());
    Files.write(b, "beta, edited".getBytes(UTF_8));
    List<byte[]> data = side.readFiles(List.of("a.txt", "b.txt", "gone.txt"),
        List.of(cs.changes().get("a.txt").hash(), cs.changes().get("b.txt").hash(), ContentHash.of(new byte[0])));
    assertThat(new String(data.get(0), UTF_8)).isEqualTo("alpha");
    assertThat(data.get(1)).as("modified since the scan").isNull();
    assertThat(data.get(2)).isNull();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> side.readFiles(List.of("a.txt"), List.of()))
        .hasMessage("read files: 1 paths, 0 hashes (expected: one hash per path)");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> side.writeFiles(List.of(new Endpoint.WholeFile(
        "../x", null, Entry.file(ContentHash.of(new byte[0]), 0, false, 0), new byte[0])), 0))
        .hasMessage("path: ../x (expected: no empty, '.' or '..' segments)");
  }

  @Test
  void hintsInsideAHintedDirectoryAreCoveredByOneWalk() throws Exception {
    side.changes(0, true, List.of());
    Path dir = Files.createDirectories(root.resolve("new"));
    List<String> hints = new java.util.ArrayList<>(List.of("new"));
    for (int i = 0; i < 50; i++) {
      old(Files.write(dir.resolve("f" + i), ("v" + i).getBytes(UTF_8)));
      hints.add("new/f" + i);
    }
    hints.add("new/vanished"); // created and removed again before the scan
    side.hintPaths(hints);
    Endpoint.ChangeSet cs = side.changes(0, false, List.of());
    assertThat(cs.changes()).hasSize(51).containsKey("new").containsKey("new/f49");
    assertThat(side.filesHashed.get()).as("each file hashed once").isEqualTo(50);
    // the directory removed with everything in it: the hints below it end as deletions too
    for (int i = 0; i < 50; i++) {
      Files.delete(dir.resolve("f" + i));
    }
    Files.delete(dir);
    side.hintPaths(List.of("new", "new/f3", "new/f7"));
    Endpoint.ChangeSet after = side.changes(cs.lastSeq(), false, List.of());
    assertThat(after.changes()).hasSize(51).containsEntry("new", null).containsEntry("new/f3", null);
    assertThat(side.snapshot()).isEmpty();
  }

  /**
   * A rule file's change makes one full scan under the new rules: the one the hint asks for
   * when the user edits it (not a second one after it), and the next one when the applier
   * writes it (the other side's edit, which no hint reports). A file made meanwhile where no
   * hint points shows which scans were full.
   */
  @Test
  void aRuleFileChangeMakesOneFullScanWhereverItCameFrom() throws Exception {
    Files.writeString(root.resolve("a.txt"), "a");
    Endpoint.ChangeSet cs = side.changes(0, true, List.of());
    long v = side.ignoreRulesVersion();

    Files.writeString(root.resolve(".thunderlinkignore"), "build/\n");
    Files.writeString(root.resolve("unhinted-1.txt"), "1");
    cs = side.changes(cs.lastSeq(), false, List.of(".thunderlinkignore"));
    assertThat(cs.changes()).as("the hint's full scan").containsKeys(".thunderlinkignore", "unhinted-1.txt");
    assertThat(side.ignoreRulesVersion()).isGreaterThan(v);
    assertThat(side.ignores("build/x.o", false)).isTrue();
    Files.writeString(root.resolve("unhinted-2.txt"), "2");
    cs = side.changes(cs.lastSeq(), false, List.of());
    assertThat(cs.changes()).as("no second full scan after it").doesNotContainKey("unhinted-2.txt");

    v = side.ignoreRulesVersion();
    byte[] rule = "dist/\n".getBytes(UTF_8);
    Entry current = side.snapshot().get(".thunderlinkignore");
    List<ApplyResult> r = side.writeFiles(List.of(new Endpoint.WholeFile(".thunderlinkignore", current,
        Entry.file(ContentHash.of(rule), rule.length, false, System.currentTimeMillis() - 60_000), rule)), 0);
    assertThat(r).extracting(ApplyResult::outcome).containsOnly(ApplyResult.Outcome.OK);
    assertThat(side.ignoreRulesVersion()).isGreaterThan(v);
    assertThat(side.ignores("dist/y.o", false)).as("in force at once").isTrue();
    assertThat(side.ignores("build/x.o", false)).isFalse();
    cs = side.changes(cs.lastSeq(), false, List.of());
    assertThat(cs.changes()).as("the applier's write: a full scan next").containsKey("unhinted-2.txt");
  }
  /**
   * A rule file an editor made, and had not written yet when the scan read the rules, was
   * recorded with the content the scan hashed a moment later. The rules in force are that
   * content's: before, the rules read from the empty file stayed until the next rule change,
   * and the coordinator, which looks at the tree again once per change of the recorded rules,
   * never ignored what the file says (the randomized test lost a file of a folder ignored that
   * way: its deletion crossed once the rule went again).
   */
  @Test
  void theRulesInForceAreThoseOfTheRuleFileTheScanRecorded() throws Exception {
    Files.createDirectories(root.resolve("d1"));
    old(Files.writeString(root.resolve("d1/f.txt"), "f"));
    Endpoint.ChangeSet cs = side.changes(0, true, List.of());
    long v = side.ignoreRulesVersion();
    Path rule = Files.createFile(root.resolve(IgnoreRules.IGNORE_FILE));
    side.rules().afterRead = f -> {
      if (f.equals(rule)) {
        side.rules().afterRead = g -> { };
        try {
          Files.writeString(f, "d1/\n");
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    };
    cs = side.changes(cs.lastSeq(), false, List.of(IgnoreRules.IGNORE_FILE));
    assertThat(cs.changes().get(IgnoreRules.IGNORE_FILE).hash()).as("recorded whole")
        .isEqualTo(ContentHash.of("d1/\n".getBytes(UTF_8)));
    assertThat(side.ignoreRulesVersion()).isGreaterThan(v);
    assertThat(side.ignores("d1/f.txt", false)).as("the recorded content's rules").isTrue();
    assertThat(side.ignores("d1", true)).isTrue();
  }
}
