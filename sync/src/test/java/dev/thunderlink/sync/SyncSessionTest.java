package dev.thunderlink.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.sync.SyncPair.Fs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The engine end to end (scanner, reconciler, applier, SQLite state), on the real FS and on Jimfs like macOS. */
class SyncSessionTest {
  @TempDir
  Path tmp;

  private static void write(Path p, String s) throws Exception {
    Files.createDirectories(p.getParent());
    Files.write(p, s.getBytes(UTF_8));
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void propagatesCreateModifyDeleteBothWays(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      write(p.a.resolve("src/main.c"), "int main;");
      Files.createDirectories(p.b.resolve("empty/dir"));
      write(p.b.resolve("notes.md"), "hi");
      p.flush();
      SyncStatus st = p.session.status();
      assertThat(st.planOps()).isEqualTo(st.planOpsDone()).isPositive();
      assertThat(st.planBytesDone()).isEqualTo(st.planBytes());
      assertThat(st.planActive()).as("a flushed session applies no plan").isFalse();
      assertThat(st.planFinishedMillis()).isGreaterThanOrEqualTo(st.planStartedMillis()).isPositive();
      assertThat(SyncPair.tree(p.b)).isEqualTo(SyncPair.tree(p.a)).containsEntry("src/main.c", "int main;")
          .containsEntry("empty/dir", "dir").containsEntry("notes.md", "hi");

      write(p.b.resolve("src/main.c"), "int main(void);");
      Files.delete(p.a.resolve("notes.md"));
      p.flush();
      assertThat(SyncPair.tree(p.a)).isEqualTo(SyncPair.tree(p.b)).containsEntry("src/main.c", "int main(void);")
          .doesNotContainKey("notes.md");

      Files.delete(p.b.resolve("src/main.c"));
      Files.delete(p.b.resolve("src"));
      p.flush();
      assertThat(SyncPair.tree(p.a)).isEqualTo(SyncPair.tree(p.b)).doesNotContainKey("src");
      assertThat(p.session.status().errors()).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void twoDifferentEditsKeepBothVersions(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      write(p.a.resolve("doc/report.txt"), "base");
      p.flush();
      write(p.a.resolve("doc/report.txt"), "local edit");
      write(p.b.resolve("doc/report.txt"), "remote edit");
      p.flush();
      Map<String, String> ta = SyncPair.tree(p.a);
      assertThat(ta).isEqualTo(SyncPair.tree(p.b)).containsEntry("doc/report.txt", "local edit");
      assertThat(ta.entrySet()).anySatisfy(e -> {
        assertThat(e.getKey()).matches("doc/report\\.conflict-mini-\\d{8}-\\d{6}\\.txt");
        assertThat(e.getValue()).isEqualTo("remote edit");
      });
      assertThat(p.session.conflicts()).singleElement().satisfies(c -> {
        assertThat(c.path()).isEqualTo("doc/report.txt");
        assertThat(c.device()).isEqualTo("mini");
      });
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void identicalEditsAreNoConflictAndDeletionLosesToModification(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      write(p.a.resolve("same.txt"), "x");
      write(p.a.resolve("d/keep.txt"), "v1");
      p.flush();
      write(p.a.resolve("same.txt"), "y");
      write(p.b.resolve("same.txt"), "y");
      // delete the whole directory on one side while the other edits a file in it
      Files.delete(p.a.resolve("d/keep.txt"));
      Files.delete(p.a.resolve("d"));
      write(p.b.resolve("d/keep.txt"), "v2");
      p.flush();
      assertThat(SyncPair.tree(p.a)).isEqualTo(SyncPair.tree(p.b)).containsEntry("same.txt", "y")
          .containsEntry("d/keep.txt", "v2");
      assertThat(p.session.conflicts()).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void resolvedModeLetsTheWorkstationWin(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_RESOLVED, b -> { })) {
      write(p.a.resolve("f"), "base");
      p.flush();
      write(p.a.resolve("f"), "mine");
      write(p.b.resolve("f"), "theirs");
      p.flush();
      assertThat(SyncPair.tree(p.b)).isEqualTo(Map.of("f", "mine"));
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void replicaModeRevertsRemoteChanges(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.ONE_WAY_REPLICA, b -> { })) {
      write(p.a.resolve("f"), "source");
      write(p.b.resolve("stray"), "x");
      p.flush();
      write(p.b.resolve("f"), "tampered");
      p.flush();
      assertThat(SyncPair.tree(p.b)).isEqualTo(Map.of("f", "source"));
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void mirrorsExecutableBitSymlinksAndEmptyDirectories(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      write(p.a.resolve("bin/run.sh"), "#!/bin/sh");
      Files.setPosixFilePermissions(p.a.resolve("bin/run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.createSymbolicLink(p.a.resolve("link"), p.a.getFileSystem().getPath("bin/run.sh"));
      Files.createDirectories(p.a.resolve("empty"));
      p.flush();
      assertThat(SyncPair.tree(p.b)).containsEntry("bin/run.sh", "+x:#!/bin/sh").containsEntry("link", "link:bin/run.sh")
          .containsEntry("empty", "dir");
      Files.setPosixFilePermissions(p.b.resolve("bin/run.sh"), PosixFilePermissions.fromString("rw-r--r--"));
      p.flush();
      assertThat(SyncPair.tree(p.a)).containsEntry("bin/run.sh", "#!/bin/sh");
    }
  }

  /**
   * A file's modification time travels with its content, and alone (a {@code touch}, which
   * build tools on the other side go by) from whichever side changed it, with no content sent.
   */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void aTouchAloneCrossesEitherWayWithoutTheContent(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      write(p.a.resolve("src/main.c"), "int main;");
      Files.setLastModifiedTime(p.a.resolve("src/main.c"), java.nio.file.attribute.FileTime.fromMillis(1_600_000_000_123L));
      p.flush();
      assertThat(mtime(p.b.resolve("src/main.c"))).isEqualTo(1_600_000_000_123L);
      long sent = p.session.status().filesTransferred();

      Files.setLastModifiedTime(p.a.resolve("src/main.c"), java.nio.file.attribute.FileTime.fromMillis(978_307_200_000L));
      p.flush();
      assertThat(mtime(p.b.resolve("src/main.c"))).isEqualTo(978_307_200_000L);
      Files.setLastModifiedTime(p.b.resolve("src/main.c"), java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L));
      p.flush();
      assertThat(mtime(p.a.resolve("src/main.c"))).isEqualTo(1_700_000_000_000L);
      p.flush();
      assertThat(mtime(p.b.resolve("src/main.c"))).as("settled, no ping-pong").isEqualTo(1_700_000_000_000L);
      assertThat(p.session.status().filesTransferred()).as("no content sent for a time").isEqualTo(sent);
      assertThat(p.session.conflicts()).isEmpty();

      // the same content made on both sides apart: each keeps its own time, and neither is
      // later taken for a touch of the other
      write(p.a.resolve("same.txt"), "y");
      write(p.b.resolve("same.txt"), "y");
      Files.setLastModifiedTime(p.a.resolve("same.txt"), java.nio.file.attribute.FileTime.fromMillis(1_500_000_000_000L));
      Files.setLastModifiedTime(p.b.resolve("same.txt"), java.nio.file.attribute.FileTime.fromMillis(1_400_000_000_000L));
      p.flush();
      p.flush();
      assertThat(mtime(p.a.resolve("same.txt"))).isEqualTo(1_500_000_000_000L);
      assertThat(mtime(p.b.resolve("same.txt"))).isEqualTo(1_400_000_000_000L);
      // once its content changes, the time goes with it again
      write(p.b.resolve("same.txt"), "z");
      Files.setLastModifiedTime(p.b.resolve("same.txt"), java.nio.file.attribute.FileTime.fromMillis(1_450_000_000_000L));
      p.flush();
      assertThat(mtime(p.a.resolve("same.txt"))).isEqualTo(1_450_000_000_000L);
      assertThat(SyncPair.tree(p.a)).isEqualTo(SyncPair.tree(p.b));
      assertThat(p.session.conflicts()).isEmpty();
    }
  }

  private static long mtime(Path f) throws java.io.IOException {
    return Files.getLastModifiedTime(f).toMillis();
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void refusesSymlinksPointingOutsideTheRoot(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      Files.createSymbolicLink(p.a.resolve("escape"), p.a.getFileSystem().getPath("../../etc"));
      Files.createSymbolicLink(p.a.resolve("abs"), p.a.getFileSystem().getPath("/etc/passwd"));
      write(p.a.resolve("ok.txt"), "fine");
      p.flush();
      assertThat(SyncPair.tree(p.b)).isEqualTo(Map.of("ok.txt", "fine"));
      assertThat(p.session.status().errors()).containsKeys("local:escape", "local:abs");
      assertThat(p.session.status().errors().get("local:escape")).contains("outside the sync root");
    }
  }

  /**
   * A flush asked for while a cycle runs takes over once that cycle ends: the flush's own full
   * cycle covers what a further background cycle would look at, so none runs in between (after
   * an initial sync, that one was the host's rescan of every path just written).
   */
  @org.junit.jupiter.api.Test
  void aWaitingFlushTakesOverFromTheBackgroundCycles() throws Exception {
    try (SyncPair p = SyncPair.open(Fs.REAL, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      p.flush();
      p.session.pause();
      for (int i = 0; i < 50; i++) {
        write(p.a.resolve("d/f" + i), "v" + i);
      }
      java.util.concurrent.atomic.AtomicReference<Exception> flushFailure = new java.util.concurrent.atomic.AtomicReference<>();
      Thread flusher = new Thread(() -> {
        try {
          p.flush();
        } catch (Exception e) {
          flushFailure.set(e);
        }
      });
      java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
      // runs on the session thread: holds the background cycle until the flush is waiting for it
      p.session.subscribe(c -> {
        if (c.kind() == SyncChange.Kind.APPLIED && first.getAndSet(false)) {
          flusher.start();
          org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
              .until(() -> flusher.getState() == Thread.State.TIMED_WAITING);
        }
      });
      long before = p.session.status().cycles();

      p.session.resume(false);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
          .until(() -> flusher.getState() == Thread.State.TERMINATED);

      assertThat(flushFailure.get()).isNull();
      assertThat(Files.readString(p.b.resolve("d/f49"))).isEqualTo("v49");
      // the background cycle that applied the files, then the flush's full one; not a second
      // background cycle (to find nothing) before it
      assertThat(p.session.status().cycles() - before).isEqualTo(2);
    }
  }

  /**
   * `sync create --wait`: the session's first sync scans both sides in full anyway, so waiting
   * for it is enough; no flush's second full cycle follows it.
   */
  @org.junit.jupiter.api.Test
  void awaitingTheFirstSyncWaitsForItAloneWithoutAFlushCycle() throws Exception {
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    try (SyncPair p = SyncPair.open(Fs.REAL, tmp, SyncMode.TWO_WAY_SAFE, cfg -> {
      try { // both trees hold files before the session starts
        for (int i = 0; i < 40; i++) {
          write(a.resolve("d" + (i % 4) + "/f" + i), "v" + i);
        }
        write(b.resolve("host/only.txt"), "from the host");
        // both sides hold a different notes.md: a conflict, whose copy travels in the next cycle
        write(a.resolve("notes.md"), "the workstation's notes");
        write(b.resolve("notes.md"), "the host's notes");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    })) {
      p.session.awaitFirstSync(java.time.Duration.ofSeconds(30));
      // both versions of the conflicting file on both sides already: the wait covered the
      // cycle that carried the conflict copy over, not only the one that made it
      Map<String, String> tree = SyncPair.tree(p.a);
      assertThat(SyncPair.tree(p.b)).isEqualTo(tree).containsEntry("d3/f39", "v39")
          .containsEntry("host/only.txt", "from the host");
      assertThat(tree.values()).contains("the workstation's notes", "the host's notes");
      // the first sync's own cycles only: no full one, as a flush would have run
      assertThat(p.session.fullCycles()).isZero();
      p.flush();
      assertThat(p.session.fullCycles()).isEqualTo(1);
    }
  }

  /** A first sync not done in time: the wait says so, and the session goes on to finish it. */
  @org.junit.jupiter.api.Test
  void awaitingAFirstSyncThatTakesLongerThanTheTimeoutSaysSoAndTheSyncGoesOn() throws Exception {
    Path a = tmp.resolve("a");
    try (SyncPair p = SyncPair.open(Fs.REAL, tmp, SyncMode.TWO_WAY_SAFE, cfg -> {
      try {
        for (int i = 0; i < 300; i++) {
          write(a.resolve("d" + (i % 10) + "/f" + i), "v" + i);
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    })) {
      assertThatThrownBy(() -> p.session.awaitFirstSync(java.time.Duration.ofNanos(1)))
          .isInstanceOf(java.util.concurrent.TimeoutException.class)
          .hasMessageContaining("sync t: the first sync did not finish in time");
      p.session.awaitFirstSync(java.time.Duration.ofSeconds(30));
      assertThat(SyncPair.tree(p.b)).isEqualTo(SyncPair.tree(p.a)).containsEntry("d9/f299", "v299");
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void ownWritesDoNotComeBackAsChanges(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      for (int i = 0; i < 20; i++) {
        write(p.a.resolve("f" + i), "v" + i);
      }
      p.flush();
      long ops = p.session.status().opsApplied();
      p.flush();
      p.flush();
      assertThat(p.session.status().opsApplied()).isEqualTo(ops);
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void oneByteEditSendsOnlyTheChangedBlock(Fs fs) throws Exception {
    int block = 64 * 1024;
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> b.blockSize(block))) {
      byte[] data = new byte[4 * 1024 * 1024];
      new Random(7).nextBytes(data);
      Files.write(p.a.resolve("big.bin"), data);
      p.flush();
      long sent = p.session.status().bytesSent();
      data[1_000_000] ^= 1;
      Files.write(p.a.resolve("big.bin"), data);
      p.flush();
      assertThat(Files.readAllBytes(p.b.resolve("big.bin"))).isEqualTo(data);
      assertThat(p.session.status().bytesSent() - sent).isEqualTo(block);
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void renameIsAppliedAsRenameNotResent(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      byte[] data = new byte[300_000];
      new Random(1).nextBytes(data);
      Files.createDirectories(p.a.resolve("x"));
      Files.write(p.a.resolve("x/big.bin"), data);
      p.flush();
      long sent = p.session.status().bytesSent();
      Files.createDirectories(p.a.resolve("y"));
      Files.move(p.a.resolve("x/big.bin"), p.a.resolve("y/moved.bin"));
      p.flush();
      assertThat(Files.readAllBytes(p.b.resolve("y/moved.bin"))).isEqualTo(data);
      assertThat(Files.exists(p.b.resolve("x/big.bin"))).isFalse();
      assertThat(p.session.status().renamesApplied()).isEqualTo(1);
      assertThat(p.session.status().bytesSent()).isEqualTo(sent);
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void safetyStopHaltsMassDeletionUntilForced(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> b.safetyMinimumEntries(10))) {
      for (int i = 0; i < 30; i++) {
        write(p.a.resolve("f" + i), "v");
      }
      write(p.a.resolve("keep"), "k");
      p.flush();
      for (int i = 0; i < 30; i++) {
        Files.delete(p.a.resolve("f" + i));
      }
      assertThatThrownBy(p::flush).isInstanceOf(IllegalStateException.class).hasMessageContaining("would delete 30 of 31");
      assertThat(p.session.status().state()).isEqualTo("HALTED");
      assertThat(SyncPair.tree(p.b)).hasSize(31);
      p.session.resume(true);
      p.flush();
      assertThat(SyncPair.tree(p.b)).isEqualTo(Map.of("keep", "k"));
    }
  }

  /**
   * A halt outlives a restart of the daemon until it is confirmed. The second piece of a deletion
   * (12 of 40 files, then 12 more of the 28 left) is stopped only because the engine remembers
   * the side's size of the last minute; a restarted engine checked it alone, found 12 of 28
   * below half, and deleted it on the other side.
   */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void aHaltIsKeptAcrossARestartUntilConfirmed(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> b.safetyMinimumEntries(10))) {
      for (int i = 0; i < 40; i++) {
        write(p.a.resolve("f" + i), "v" + i);
      }
      p.flush();
      for (int i = 0; i < 12; i++) {
        Files.delete(p.a.resolve("f" + i));
      }
      p.flush();
      assertThat(SyncPair.tree(p.b)).hasSize(28);
      for (int i = 12; i < 24; i++) {
        Files.delete(p.a.resolve("f" + i));
      }
      assertThatThrownBy(p::flush).hasMessageContaining("would delete 12 of 28 entries on mini: 24 fewer than the 40");
      String why = p.session.status().haltReason();

      p.restart();
      assertThat(p.session.status().state()).isEqualTo("HALTED");
      assertThat(p.session.status().haltReason()).isEqualTo(why);
      assertThatThrownBy(p::flush).hasMessageContaining("halted");
      assertThatThrownBy(() -> p.session.resume(false)).hasMessageContaining("use --force");
      assertThat(SyncPair.tree(p.b)).as("the held deletion did not cross").hasSize(28);

      p.session.resume(true);
      p.flush();
      assertThat(SyncPair.tree(p.b)).hasSize(16);
      p.restart();
      p.flush();
      assertThat(p.session.status().state()).as("a confirmed halt is gone for good").isEqualTo("RUNNING");
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void ignoreRulesAndBuiltIns(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> b.ignore("*.log").ignore("build/"))) {
      write(p.a.resolve("app.log"), "noise");
      write(p.a.resolve("build/out.o"), "obj");
      write(p.a.resolve(".DS_Store"), "finder");
      write(p.a.resolve(".git/index.lock"), "lock");
      write(p.a.resolve(".git/refs/heads/main.lock"), "lock");
      write(p.a.resolve(".git/config"), "[core]");
      write(p.a.resolve(".thunderlinkignore"), "secret.txt\n");
      write(p.a.resolve("secret.txt"), "s");
      write(p.a.resolve("src/a.c"), "c");
      p.flush();
      assertThat(SyncPair.tree(p.b).keySet()).containsExactlyInAnyOrder(".git", ".git/config", ".git/refs",
          ".git/refs/heads", ".thunderlinkignore", "src", "src/a.c");
    }
  }

  /**
   * A path ignored for a while is not synced, nor remembered as synced: a deletion made on
   * either side while it was ignored is undone from the other side once the rules let it go
   * again, instead of deleting the other side's copy. The rule file is written on the host
   * (it reaches the workstation by the applier) and removed on the workstation.
   */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void aDeletionMadeWhileAPathWasIgnoredIsUndoneOnceItIsNoLongerIgnored(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      write(p.a.resolve("build/out.o"), "obj");
      write(p.a.resolve("build/host-deletes.o"), "h");
      write(p.a.resolve("build/edited.o"), "v1");
      write(p.a.resolve("src/a.c"), "c");
      p.flush();
      write(p.b.resolve(".thunderlinkignore"), "build/\n");
      p.flush();
      assertThat(SyncPair.tree(p.a)).containsEntry(".thunderlinkignore", "build/\n");

      Files.delete(p.a.resolve("build/out.o"));
      write(p.a.resolve("build/edited.o"), "v2, edited while ignored");
      Files.delete(p.b.resolve("build/host-deletes.o"));
      write(p.b.resolve("build/made-on-host.o"), "new");
      p.flush();
      assertThat(SyncPair.tree(p.b)).as("nothing crosses while ignored").containsEntry("build/out.o", "obj")
          .containsEntry("build/edited.o", "v1").doesNotContainKey("build/host-deletes.o");
      assertThat(SyncPair.tree(p.a)).containsEntry("build/host-deletes.o", "h").doesNotContainKey("build/made-on-host.o");

      Files.delete(p.a.resolve(".thunderlinkignore"));
      p.flush();
      Map<String, String> ta = SyncPair.tree(p.a);
      assertThat(ta).isEqualTo(SyncPair.tree(p.b)).doesNotContainKey(".thunderlinkignore")
          .as("deleted while ignored: back from the other side").containsEntry("build/out.o", "obj")
          .containsEntry("build/host-deletes.o", "h").containsEntry("build/made-on-host.o", "new")
          .containsEntry("src/a.c", "c");
      // edited on one side while ignored: no common version to go by, so both are kept
      assertThat(ta).containsEntry("build/edited.o", "v2, edited while ignored").containsValue("v1");
      assertThat(p.session.conflicts()).singleElement().satisfies(c -> assertThat(c.path()).isEqualTo("build/edited.o"));
    }
  }

  /**
   * The rule is taken back while the workstation's daemon is stopped: after the restart the
   * host still ignores the folder (its copy of the rule file is the old one) and still lists a
   * file it deleted while ignored. That listing is not taken for agreement: the paths left out
   * while ignored are kept in the state database, and wait for the rule files to agree.
   */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void aRuleTakenBackWhileTheDaemonWasStoppedStillUndoesADeletionMadeWhileIgnored(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      write(p.a.resolve("build/out.o"), "obj");
      write(p.a.resolve("src/a.c"), "c");
      p.flush();
      write(p.a.resolve(".thunderlinkignore"), "build/\n");
      p.flush();
      Files.delete(p.b.resolve("build/out.o"));
      p.flush();
      assertThat(SyncPair.tree(p.a)).containsEntry("build/out.o", "obj");

      p.session.close();
      Files.delete(p.a.resolve(".thunderlinkignore"));
      p.start();
      p.flush();
      assertThat(SyncPair.tree(p.a)).isEqualTo(SyncPair.tree(p.b)).doesNotContainKey(".thunderlinkignore")
          .containsEntry("build/out.o", "obj").containsEntry("src/a.c", "c");
    }
  }

  /**
   * A rule file that reaches a side through the applier is in force there at once, with the
   * watchers on and no flush (whose full scans would read every side's rules afresh): the host
   * kept the rules it had until its next full scan, and sent a file made in a folder the
   * workstation had just ignored into that folder.
   */
  @org.junit.jupiter.api.Test
  void aRuleFileFromTheOtherSideIsInForceThereWithoutAFlush() throws Exception {
    try (SyncPair p = SyncPair.open(Fs.REAL, tmp, SyncMode.TWO_WAY_SAFE, b -> b.watch(true))) {
      write(p.a.resolve("build/out.o"), "obj");
      write(p.a.resolve("src/a.c"), "c");
      p.flush();
      write(p.a.resolve(".thunderlinkignore"), "build/\n");
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
          .until(() -> Files.exists(p.b.resolve(".thunderlinkignore")));
      write(p.b.resolve("build/made-on-host.o"), "host");
      write(p.b.resolve("build/out.o"), "rebuilt on the host");
      write(p.b.resolve("src/sentinel.txt"), "after the build outputs");
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
          .until(() -> Files.exists(p.a.resolve("src/sentinel.txt")));
      assertThat(SyncPair.tree(p.a)).as("written on the host before the sentinel, in the ignored folder")
          .doesNotContainKey("build/made-on-host.o").containsEntry("build/out.o", "obj");
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void restartResumesWithoutResendingAndSurvivesADeletedDatabase(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      for (int i = 0; i < 10; i++) {
        write(p.a.resolve("f" + i), "v" + i);
      }
      p.flush();
      p.restart();
      p.flush();
      assertThat(p.session.status().filesTransferred()).isZero();
      p.session.close();
      Files.delete(p.state.resolve("session.db"));
      write(p.a.resolve("f1"), "edited while the state was lost");
      p.start();
      p.flush();
      // no ancestor: the differing file is kept both ways, nothing is lost
      Map<String, String> ta = SyncPair.tree(p.a);
      assertThat(ta).isEqualTo(SyncPair.tree(p.b)).containsEntry("f1", "edited while the state was lost")
          .containsValue("v1");
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void corruptDatabaseIsRebuilt(Fs fs) throws Exception {
    try (SyncPair p = SyncPair.open(fs, tmp, SyncMode.TWO_WAY_SAFE, b -> { })) {
      write(p.a.resolve("f"), "v");
      p.flush();
      p.session.close();
      Files.write(p.state.resolve("local.db"), "this is not a database, it is garbage".repeat(200).getBytes(UTF_8));
      Files.deleteIfExists(p.state.resolve("local.db-wal"));
      Files.deleteIfExists(p.state.resolve("local.db-shm"));
      p.start();
      write(p.b.resolve("g"), "w");
      p.flush();
      assertThat(SyncPair.tree(p.a)).isEqualTo(SyncPair.tree(p.b)).containsEntry("f", "v").containsEntry("g", "w");
    }
  }
}
