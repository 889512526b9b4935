package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.benchmarks.internal.TreeFiles;
import dev.thunderlink.benchmarks.workload.TreeGenerator;
import dev.thunderlink.benchmarks.workload.TreeSpec;
import dev.thunderlink.benchmarks.workload.TreeSummary;
import dev.thunderlink.sync.SyncChange;
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
 * <p>Against a real host ({@code --path} with {@code --host-dir} as an absolute path or
 * {@code ~/PATH}), the tree goes to {@code DIR/thunderlink-bench-PATH/sync-MILLIS/} and is deleted
 * through the session at the end (the empty folders stay). The host's copy cannot be read there:
 * an edit has arrived when the session reports the host applied it, edits are saved by a rename,
 * and the host-to-workstation edits are not measured.
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
    if (target.hostScratch() != null) {
      // the workstation's side lives in the environment's scratch too, so a cut-short run leaves nothing
      Path ws = Files.createDirectories(target.hostScratch().resolve("workstation"));
      try {
        run(target, budget, recorder, ws, new ScratchCopy(target.hostScratch().resolve("host")));
      } finally {
        deleteTree(ws);
      }
      return;
    }
    String base = target.bulk() == null ? null : target.bulk().remoteDir();
    if (base == null || !(base.startsWith("/") || base.startsWith("~/"))) {
      String why = base == null
          ? "needs a host directory for the mirror's tree: --host-dir DIR (absolute or ~/PATH), or --emulate"
          : "needs --host-dir as an absolute path or ~/PATH (a sync session's root on the host is never"
              + " relative), or --emulate";
      for (BenchMetric m : metrics()) {
        recorder.unavailable(m.id(), why);
      }
      recorder.worked(plannedMillis(budget));
      return;
    }
    Path ws = Files.createTempDirectory("thunderlink-bench-sync-");
    try {
      run(target, budget, recorder, ws, new RemoteCopy(base + "/sync-" + System.currentTimeMillis(), ws));
    } finally {
      deleteTree(ws);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * The host's copy of a tree, as the bench can see it: in this process ({@code --emulate}), its
   * files are read and written directly; on a real host only the session says what arrived.
   */
  private interface HostCopy {
    /** The remote root of the session called {@code name}. */
    String root(String name);

    /** Settings of the bench's sessions on this host. */
    SyncSessionConfig.Builder tune(SyncSessionConfig.Builder b);

    /** Before the writes whose arrival is awaited next: what arrived until now no longer counts. */
    default void begin() {}

    /** Writes {@code content} to a workstation file, as an editor would save it. */
    void write(Path file, byte[] content) throws IOException;

    /** Returns once each of {@code files} (under {@code localRoot}) has its content on the host. */
    void awaitArrival(Path localRoot, List<Path> files, List<byte[]> contents) throws Exception;

    /**
     * The host's copy of {@code file}, to write there; null when the host's files are out of reach.
     * {@code localRoot}'s own name is the session's ({@link #root}): the bench names them alike.
     */
    Path onHost(Path localRoot, Path file);

    /** After the session's runs: leaves the host as the bench found it, as far as it can. */
    void cleanUp(SyncSession session, Path localRoot) throws Exception;

    /** What the session tells: the workstation's writes the host confirmed. */
    default void watch(SyncSession session) {}
  }

  /** The host in this process: its copy is read directly for the new content. */
  private record ScratchCopy(Path dir) implements HostCopy {
    @Override
    public String root(String name) {
      return dir.resolve(name).toString();
    }

    @Override
    public SyncSessionConfig.Builder tune(SyncSessionConfig.Builder b) {
      return b;
    }

    @Override
    public void write(Path file, byte[] content) throws IOException {
      Files.write(file, content);
    }

    @Override
    public void awaitArrival(Path localRoot, List<Path> files, List<byte[]> contents) throws TimeoutException {
      for (int i = 0; i < files.size(); i++) {
        awaitContent(onHost(localRoot, files.get(i)), contents.get(i));
      }
    }

    @Override
    public Path onHost(Path localRoot, Path file) {
      return Path.of(root(localRoot.getFileName().toString())).resolve(localRoot.relativize(file).toString());
    }

    @Override
    public void cleanUp(SyncSession session, Path localRoot) {
      // the environment deletes its scratch
    }
  }

  /**
   * A real host: its copy cannot be read, so a file has arrived when the session reports it
   * applied there ({@link SyncChange.Kind#APPLIED}, which it sends once the host has confirmed the
   * write). Files are saved by a rename, as most editors save: a plain write can reach the watch
   * as an empty file first, applied on its own. The host keeps an empty folder per run.
   */
  private static final class RemoteCopy implements HostCopy {
    private final String base;
    private final Path saves;
    private final java.util.concurrent.BlockingQueue<SyncChange> applied = new java.util.concurrent.LinkedBlockingQueue<>();

    /** {@code saves}: where an edit is written before its rename (beside the trees, on their disk). */
    RemoteCopy(String base, Path saves) {
      this.base = base;
      this.saves = saves;
    }

    @Override
    public String root(String name) {
      return base + "/" + name;
    }

    @Override
    public SyncSessionConfig.Builder tune(SyncSessionConfig.Builder b) {
      return b.safetyMinimumEntries(Integer.MAX_VALUE); // the clean-up deletes the whole tree
    }

    @Override
    public void watch(SyncSession session) {
      session.subscribe(c -> {
        if (c.kind() == SyncChange.Kind.APPLIED && c.detail().startsWith(DEVICE + " ->")) {
          applied.add(c);
        }
      });
    }

    @Override
    public void begin() {
      applied.clear(); // the initial sync's, and earlier rounds' (a path applied twice)
    }

    @Override
    public void write(Path file, byte[] content) throws IOException {
      Path tmp = saves.resolve("bench-save.tmp");
      Files.write(tmp, content);
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void awaitArrival(Path localRoot, List<Path> files, List<byte[]> contents) throws Exception {
      java.util.Set<String> waiting = new java.util.HashSet<>();
      for (Path f : files) {
        waiting.add(localRoot.relativize(f).toString().replace(java.io.File.separatorChar, '/'));
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!waiting.isEmpty()) {
        SyncChange c = applied.poll(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
        if (c == null) {
          throw new TimeoutException("the host did not confirm " + waiting + " within 30 s");
        }
        waiting.remove(c.path());
      }
    }

    @Override
    public Path onHost(Path localRoot, Path file) {
      return null;
    }

    @Override
    public void cleanUp(SyncSession session, Path localRoot) throws Exception {
      try (Stream<Path> s = Files.list(localRoot)) {
        for (Path p : s.toList()) {
          deleteTree(p);
        }
      }
      session.flush(Duration.ofMinutes(2));
    }
  }

  /** The workstation's device name in the bench's sessions. */
  private static final String DEVICE = "bench-workstation";

  private void run(BenchTarget target, BenchBudget budget, BenchRecorder recorder, Path ws, HostCopy host)
      throws Exception {
    // Warm-up, not measured: a small session first, so the path measured first does not pay for
    // class loading, JIT and SQLite's first open.
    recorder.phase("sync: warm-up over " + target.label());
    Path warmLocal = ws.resolve("warm");
    TreeGenerator.generate(new TreeSpec(Math.max(30, (int) (100 * Math.min(1, budget.factor()))), 1024, 16 * 1024, 50,
        TreeSpec.DEFAULT_SEED + 1), warmLocal);
    SyncSessionConfig warm = host.tune(SyncSessionConfig.builder("bench-warm-" + target.name())
        .localRoot(warmLocal)
        .remoteRoot(host.root("warm"))
        .stateDir(ws.resolve("warm-state"))
        .deviceName(DEVICE))
        .build();
    try (SyncSession session = SyncSession.start(warm, target.channel())) {
      host.watch(session);
      try {
        session.flush(Duration.ofMinutes(2));
        Path f = pick(warmLocal, 1).get(0);
        for (int i = 0; i < 5; i++) {
          byte[] content = ("warm " + i + "\n").getBytes(StandardCharsets.UTF_8);
          host.begin();
          host.write(f, content);
          host.awaitArrival(warmLocal, List.of(f), List.of(content));
        }
      } finally {
        finish(host, session, warmLocal, "warm", recorder);
      }
    }

    recorder.phase("sync: generating " + files(budget) + " files");
    Path local = ws.resolve("tree");
    TreeSummary tree = TreeGenerator.generate(TreeSpec.sourceTree(files(budget)), local);
    SyncSessionConfig config = host.tune(SyncSessionConfig.builder("bench-" + target.name())
        .localRoot(local)
        .remoteRoot(host.root("tree"))
        .stateDir(ws.resolve("state"))
        .deviceName(DEVICE))
        .build();
    recorder.phase("sync: initial sync of " + tree.files() + " files over " + target.label());
    long t0 = System.nanoTime();
    try (SyncSession session = SyncSession.start(config, target.channel())) {
      host.watch(session);
      try {
        measure(target, budget, recorder, host, session, local, tree, t0);
      } finally {
        recorder.phase("sync: cleaning up over " + target.label());
        finish(host, session, local, "tree", recorder);
      }
    }
  }

  /**
   * After a session's runs, whether they finished or failed: the bench's tree leaves the host
   * (as far as it can) and the host forgets the session. What fails here is a note, not the run.
   */
  private static void finish(HostCopy host, SyncSession session, Path local, String name, BenchRecorder recorder) {
    try {
      host.cleanUp(session, local);
      session.terminate();
    } catch (Exception e) {
      recorder.note("the bench's files may stay on the host in " + host.root(name) + " (" + e.getMessage()
          + "); delete them there");
    }
  }

  private void measure(BenchTarget target, BenchBudget budget, BenchRecorder recorder, HostCopy host,
      SyncSession session, Path local, TreeSummary tree, long t0) throws Exception {
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
      host.begin();
      long start = System.nanoTime();
      host.write(edited, content);
      host.awaitArrival(local, List.of(edited), List.of(content));
      edit[i] = System.nanoTime() - start;
      recorder.worked(20);
    }
    Arrays.sort(edit);
    recorder.value("edit-p50", percentile(edit, 50) / 1e6, edit.length);
    recorder.value("edit-p99", percentile(edit, 99) / 1e6, edit.length);

    // the other way: an agent on the host writes, the editor's copy gets it (the host's watcher,
    // its note to the workstation, the workstation's pull)
    Path back = someFiles.get(1);
    Path backOnHost = host.onHost(local, back);
    if (backOnHost == null) {
      String why = "needs to write in the host's copy of the tree: measured with --emulate";
      recorder.unavailable("edit-back-p50", why);
      recorder.unavailable("edit-back-p99", why);
    } else {
      recorder.phase("sync: single edits on the host over " + target.label());
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
    }

    recorder.phase("sync: 10 files at once over " + target.label());
    long[] ten = new long[rounds(budget)];
    for (int round = 0; round < ten.length; round++) {
      List<byte[]> contents = new java.util.ArrayList<>();
      host.begin();
      long start = System.nanoTime();
      for (int i = 0; i < someFiles.size(); i++) {
        contents.add(("round " + round + " file " + i + " " + System.nanoTime() + "\n").getBytes(StandardCharsets.UTF_8));
        host.write(someFiles.get(i), contents.get(i));
      }
      host.awaitArrival(local, someFiles, contents);
      ten[round] = System.nanoTime() - start;
      recorder.worked(50);
    }
    Arrays.sort(ten);
    recorder.value("ten-files", percentile(ten, 50) / 1e6, ten.length);
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
