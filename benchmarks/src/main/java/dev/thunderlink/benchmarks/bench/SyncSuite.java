package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.benchmarks.internal.TreeFiles;
import dev.thunderlink.benchmarks.workload.TreeGenerator;
import dev.thunderlink.benchmarks.workload.TreeSpec;
import dev.thunderlink.benchmarks.workload.TreeSummary;
import dev.thunderlink.sync.SyncSession;
import dev.thunderlink.sync.SyncSessionConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * {@code sync}: the mirror over one path. A workstation {@link SyncSession} through the real link
 * to the host's {@code SyncHostService}: initial sync of a generated source tree (the shared
 * {@link TreeGenerator}; 400 files in the short run, 20,000 with {@code --full}), then the time
 * from writing one small file on the workstation until the host's copy has the new content, the
 * same the other way (written in the host's folder until the workstation's copy has it), then 10
 * files changed at once on the workstation. Both trees are on this machine, so the other side's
 * copy is read (or written) directly; the bytes still travel the link.
 *
 * <p>Needs the host in this process ({@code --emulate}); against a real host it reports why not.
 */
final class SyncSuite implements BenchSuite {

  @Override
  public String id() {
    return "sync";
  }

  @Override
  public String title() {
    return "Mirror (sync)";
  }

  @Override
  public String description() {
    return "A two-way mirror session from workstation to host over the link: initial sync of a generated"
        + " source tree (text files of 1-16 KiB), then one small edit on the workstation until the host's"
        + " file has the new content (p50, p99), the same from the host to the workstation, then 10 files"
        + " changed at once until all 10 arrived (median of rounds). Lower is better.";
  }

  @Override
  public List<BenchMetric> metrics() {
    return List.of(
        BenchMetric.unpaired("edit-p50", "one edit reaches the host, p50", "ms", false),
        BenchMetric.unpaired("edit-p99", "one edit reaches the host, p99", "ms", false),
        BenchMetric.unpaired("edit-back-p50", "one host edit reaches the workstation, p50", "ms", false),
        BenchMetric.unpaired("edit-back-p99", "one host edit reaches the workstation, p99", "ms", false),
        BenchMetric.unpaired("ten-files", "10 changed files all on the host, median", "ms", false),
        BenchMetric.unpaired("initial", "initial sync of the tree", "s", false));
  }

  static int files(BenchBudget b) {
    return b.full() ? 20_000 : Math.max(100, (int) (400 * Math.min(1, b.factor())));
  }

  private static int edits(BenchBudget b) {
    return b.full() ? 100 : Math.max(3, (int) (15 * Math.min(1, b.factor())));
  }

  private static int rounds(BenchBudget b) {
    return b.full() ? 20 : Math.max(2, (int) (5 * Math.min(1, b.factor())));
  }

  @Override
  public long plannedMillis(BenchBudget budget) {
    // measured here under load: about 2 s of warm-up and 5-10 ms per file of initial sync
    return budget.millis(2000) + files(budget) * 8L + edits(budget) * 40L + rounds(budget) * 50L;
  }

  @Override
  public void run(BenchTarget target, BenchBudget budget, BenchRecorder recorder) throws Exception {
    if (target.hostScratch() == null) {
      String why = "skipped on a real host: timing an edit needs to read the host's copy of the tree;"
          + " measured with --emulate";
      for (BenchMetric m : metrics()) {
        recorder.unavailable(m.id(), why);
      }
      recorder.worked(plannedMillis(budget));
      return;
    }
    // the workstation's side lives in the environment's scratch too, so a cut-short run leaves nothing
    Path ws = Files.createDirectories(target.hostScratch().resolve("workstation"));
    try {
      run(target, budget, recorder, ws);
    } finally {
      try (Stream<Path> files = Files.walk(ws)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private void run(BenchTarget target, BenchBudget budget, BenchRecorder recorder, Path ws) throws Exception {
    // Warm-up, not measured: a small session first, so the path measured first does not pay for
    // class loading, JIT and SQLite's first open.
    recorder.phase("sync: warm-up over " + target.label());
    Path warmLocal = ws.resolve("warm");
    TreeGenerator.generate(new TreeSpec(Math.max(30, (int) (100 * Math.min(1, budget.factor()))), 1024, 16 * 1024, 50,
        TreeSpec.DEFAULT_SEED + 1), warmLocal);
    SyncSessionConfig warm = SyncSessionConfig.builder("bench-warm-" + target.name())
        .localRoot(warmLocal)
        .remoteRoot(target.hostScratch().resolve("host").resolve("warm").toString())
        .stateDir(ws.resolve("warm-state"))
        .deviceName("bench-workstation")
        .build();
    try (SyncSession session = SyncSession.start(warm, target.channel())) {
      session.flush(Duration.ofMinutes(2));
      Path f = pick(warmLocal, 1).get(0);
      for (int i = 0; i < 5; i++) {
        byte[] content = ("warm " + i + "\n").getBytes(StandardCharsets.UTF_8);
        Files.write(f, content);
        awaitContent(target.hostScratch().resolve("host").resolve("warm").resolve(warmLocal.relativize(f).toString()), content);
      }
    }

    recorder.phase("sync: generating " + files(budget) + " files");
    Path local = ws.resolve("tree");
    TreeSummary tree = TreeGenerator.generate(TreeSpec.sourceTree(files(budget)), local);
    Path remote = target.hostScratch().resolve("host").resolve("tree");
    SyncSessionConfig config = SyncSessionConfig.builder("bench-" + target.name())
        .localRoot(local)
        .remoteRoot(remote.toString())
        .stateDir(ws.resolve("state"))
        .deviceName("bench-workstation")
        .build();
    recorder.phase("sync: initial sync of " + tree.files() + " files over " + target.label());
    long t0 = System.nanoTime();
    try (SyncSession session = SyncSession.start(config, target.channel())) {
      session.flush(Duration.ofMinutes(budget.full() ? 30 : 5));
      long initial = System.nanoTime() - t0;
      recorder.value("initial", initial / 1e9, tree.files());
      recorder.worked(files(budget) * 8L);
      if (session.status().filesTransferred() < tree.files()) {
        recorder.note(target.label() + ": initial sync transferred " + session.status().filesTransferred()
            + " of " + tree.files() + " files");
      }

      recorder.phase("sync: single edits over " + target.label());
      List<Path> someFiles = pick(local, 10);
      Path edited = someFiles.get(0);
      long[] edit = new long[edits(budget)];
      for (int i = 0; i < edit.length; i++) {
        byte[] content = ("edit " + i + " " + System.nanoTime() + "\n").getBytes(StandardCharsets.UTF_8);
        long start = System.nanoTime();
        Files.write(edited, content);
        awaitContent(remote.resolve(local.relativize(edited).toString()), content);
        edit[i] = System.nanoTime() - start;
        recorder.worked(20);
      }
      Arrays.sort(edit);
      recorder.value("edit-p50", percentile(edit, 50) / 1e6, edit.length);
      recorder.value("edit-p99", percentile(edit, 99) / 1e6, edit.length);

      // the other way: an agent on the host writes, the editor's copy gets it (the host's watcher,
      // its note to the workstation, the workstation's pull)
      recorder.phase("sync: single edits on the host over " + target.label());
      Path back = someFiles.get(1);
      Path backOnHost = remote.resolve(local.relativize(back).toString());
      long[] edited2 = new long[edits(budget)];
      for (int i = 0; i < edited2.length; i++) {
        byte[] content = ("host edit " + i + " " + System.nanoTime() + "\n").getBytes(StandardCharsets.UTF_8);
        long start = System.nanoTime();
        Files.write(backOnHost, content);
        awaitContent(back, content);
        edited2[i] = System.nanoTime() - start;
        recorder.worked(20);
      }
      Arrays.sort(edited2);
      recorder.value("edit-back-p50", percentile(edited2, 50) / 1e6, edited2.length);
      recorder.value("edit-back-p99", percentile(edited2, 99) / 1e6, edited2.length);

      recorder.phase("sync: 10 files at once over " + target.label());
      long[] ten = new long[rounds(budget)];
      for (int round = 0; round < ten.length; round++) {
        byte[][] contents = new byte[someFiles.size()][];
        long start = System.nanoTime();
        for (int i = 0; i < someFiles.size(); i++) {
          contents[i] = ("round " + round + " file " + i + " " + System.nanoTime() + "\n").getBytes(StandardCharsets.UTF_8);
          Files.write(someFiles.get(i), contents[i]);
        }
        for (int i = 0; i < someFiles.size(); i++) {
          awaitContent(remote.resolve(local.relativize(someFiles.get(i)).toString()), contents[i]);
        }
        ten[round] = System.nanoTime() - start;
        recorder.worked(50);
      }
      Arrays.sort(ten);
      recorder.value("ten-files", percentile(ten, 50) / 1e6, ten.length);
    }
  }

  private static List<Path> pick(Path root, int n) throws IOException {
    return TreeFiles.pick(root, n);
  }

  private static void awaitContent(Path file, byte[] content) throws TimeoutException {
    TreeFiles.awaitContent(file, content, Duration.ofSeconds(30));
  }

  private static long percentile(long[] sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
