package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.benchmarks.bulk.ForcedMode;
import dev.thunderlink.benchmarks.internal.ByteUpload;
import dev.thunderlink.benchmarks.internal.RawTcpClient;
import dev.thunderlink.benchmarks.workload.TreeGenerator;
import dev.thunderlink.benchmarks.workload.TreeSpec;
import dev.thunderlink.benchmarks.workload.TreeSummary;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkException;
import dev.thunderlink.transport.bulk.BulkSession;
import dev.thunderlink.transport.bulk.PushItem;
import dev.thunderlink.transport.bulk.TransferListener;
import dev.thunderlink.transport.bulk.TransferMode;
import dev.thunderlink.transport.bulk.TransferResult;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code bulk-modes}: the bulk plane with each mode forced ({@link ForcedMode}, as the JMH {@code
 * BulkModeBenchmark} forces it), for a random file and a compressible source tree (the shared
 * {@link TreeGenerator}), beside gRPC chunks over the link for the same bytes and one raw TCP
 * connection through the same path (the limit). Pushes go through the real {@link BulkClient}
 * ({@code thunderlink cp}'s), one session per copy, SHA-256 verified by the host.
 *
 * <p>Short run: a 16 MiB file and a 100-file tree; {@code --full}: 1 GiB and 20,000 files.
 */
final class BulkModesSuite implements BenchSuite {

  /** Why the bulk suites have nothing to measure against a real host without {@code --host-dir}. */
  static final String NO_HOST_DIR = "needs a host directory to write into: --emulate, or --host-dir DIR"
      + " with --path (a directory inside the host's bulk roots)";

  private static final List<String> WORKLOADS = List.of("random", "tree");

  @Override
  public String id() {
    return "bulk-modes";
  }

  @Override
  public String title() {
    return "Bulk plane per mode";
  }

  @Override
  public String description() {
    return "Workstation to host through the bulk plane (what `thunderlink cp` uses), for a random file"
        + " and a generated source tree (text files of 1-16 KiB, compressible like code): in the mode the"
        + " sender picks on the path (plaintext on Thunderbolt, TLS elsewhere, LZ4 for compressible"
        + " files), then with each mode forced: zero-copy (sendfile), heap copy, LZ4, TLS 1.3. One"
        + " session per copy, verified end to end on the host (XXH3-128 on plaintext paths, SHA-256 with TLS, as bulk.digest = auto picks); beside"
        + " gRPC chunks over the link (the random bytes in 256 KiB messages, the tree one message per"
        + " file) and one raw TCP connection through the same path (the limit). Over Wi-Fi the plaintext"
        + " modes are a what-if: a real Wi-Fi path always encrypts. Higher is better.";
  }

  @Override
  public List<BenchMetric> metrics() {
    List<BenchMetric> out = new ArrayList<>();
    for (String w : WORKLOADS) {
      String what = w.equals("random") ? "random file" : "source tree";
      out.add(BenchMetric.measured(w + "-auto", what + ", the sender's choice (as cp)", "MiB/s", true, "raw-tcp"));
      for (ForcedMode m : ForcedMode.values()) {
        out.add(BenchMetric.measured(w + "-" + m.cliName(), what + ", " + label(m), "MiB/s", true, "raw-tcp"));
      }
      out.add(BenchMetric.measured(w + "-grpc", what + ", gRPC chunks", "MiB/s", true, "raw-tcp"));
    }
    out.add(BenchMetric.limit("raw-tcp", "raw TCP bulk", "MiB/s", true));
    return out;
  }

  private static String label(ForcedMode m) {
    return switch (m) {
      case ZERO_COPY -> "zero-copy";
      case HEAP -> "heap copy";
      case LZ4 -> "LZ4";
      case TLS -> "TLS";
    };
  }

  static long fileBytes(BenchBudget b) {
    return b.full() ? 1L << 30 : Math.max(1, (long) (16 * Math.min(1, b.factor()))) << 20;
  }

  static int treeFiles(BenchBudget b) {
    return b.full() ? 20_000 : Math.max(30, (int) (100 * Math.min(1, b.factor())));
  }

  /** Measuring time per figure (at least one copy), after one copy of warm-up. */
  private static long measureMillis(BenchBudget b) {
    return b.millis(300);
  }

  @Override
  public long plannedMillis(BenchBudget budget) {
    // measured here under load: about 0.6 s per figure in the short run, workloads made in about 1 s
    return 13 * (measureMillis(budget) + budget.millis(300)) + budget.millis(1000);
  }

  @Override
  public void run(BenchTarget target, BenchBudget budget, BenchRecorder recorder) throws Exception {
    if (target.bulk() == null) {
      for (BenchMetric m : metrics()) {
        if (!m.isLimit()) {
          recorder.unavailable(m.id(), NO_HOST_DIR);
        }
      }
      recorder.worked(plannedMillis(budget) - measureMillis(budget));
    } else {
      Path work = Files.createTempDirectory("thunderlink-bench-bulk-");
      try {
        recorder.phase("bulk modes: making the workloads");
        Path file = work.resolve("random");
        TreeGenerator.writeRandomFile(file, fileBytes(budget), TreeSpec.DEFAULT_SEED);
        Path tree = work.resolve("tree");
        TreeSummary summary = TreeGenerator.generate(TreeSpec.sourceTree(treeFiles(budget)), tree);
        List<Path> treeFiles = files(tree);
        measureModes(target, budget, recorder, "random", List.of(new PushItem(file, target.bulk().remote("bench-modes/random"), null)),
            fileBytes(budget));
        List<PushItem> treeItems = new ArrayList<>();
        for (Path f : treeFiles) {
          treeItems.add(new PushItem(f, target.bulk().remote("bench-modes/tree/" + tree.relativize(f).toString().replace('\\', '/')), null));
        }
        measureModes(target, budget, recorder, "tree", treeItems, summary.bytes());
        measureGrpc(target, budget, recorder, file, treeFiles, summary.bytes());
      } finally {
        deleteTree(work);
      }
    }
    if (target.rawBulkAddress().isEmpty()) {
      recorder.unavailable("raw-tcp", target.rawUnavailable());
      return;
    }
    recorder.phase("bulk modes: raw TCP over " + target.label());
    try (RawTcpClient client = RawTcpClient.bulk(target.rawBulkAddress().get())) {
      int mib = (int) Math.min(64, fileBytes(budget) >> 20);
      client.transfer(mib);
      RateLoop.Rate r = loop(() -> client.transfer(mib), (long) mib << 20, measureMillis(budget), recorder);
      recorder.value("raw-tcp", r.mibPerSecond(), r.count());
    }
  }

  private void measureModes(BenchTarget target, BenchBudget budget, BenchRecorder recorder, String workload,
      List<PushItem> items, long bytes) throws Exception {
    List<ForcedMode> modes = new ArrayList<>();
    modes.add(null); // the sender's choice
    modes.addAll(List.of(ForcedMode.values()));
    for (ForcedMode mode : modes) {
      String name = mode == null ? "auto" : mode.cliName();
      String metric = workload + "-" + name;
      recorder.phase("bulk modes: " + workload + ", " + name + " over " + target.label());
      BulkClient client = mode == null ? target.bulk().client() : target.bulk().client(mode);
      Set<TransferMode> seen = EnumSet.noneOf(TransferMode.class);
      RateLoop.Step copy = () -> seen.addAll(push(client, items, bytes));
      try {
        copy.run(); // warm-up, and the host's directories made
        RateLoop.Rate r = loop(copy, bytes, measureMillis(budget), recorder);
        recorder.value(metric, r.mibPerSecond(), r.count());
        if (mode == null) {
          recorder.note(target.label() + ", " + workload + ": the sender chose "
              + seen.stream().map(TransferMode::cliName).sorted().toList());
        } else if (!seen.equals(EnumSet.of(mode.mode()))) {
          recorder.note(target.label() + ", " + workload + ", forced " + mode.cliName() + ": the files went as "
              + seen.stream().map(TransferMode::cliName).sorted().toList());
        }
      } catch (IOException e) { // BulkException too: one mode refused does not stop the others
        recorder.unavailable(metric, BenchRun.oneLine(e));
      }
    }
  }

  private void measureGrpc(BenchTarget target, BenchBudget budget, BenchRecorder recorder, Path file,
      List<Path> treeFiles, long treeBytes) throws Exception {
    recorder.phase("bulk modes: gRPC chunks over " + target.label());
    if (!target.awaitUp()) {
      recorder.note(target.label() + ": the link had marked the path down (a health probe missed its deadline"
          + " during the bulk copies); the gRPC figures were taken once it was up again");
    }
    byte[] chunk = new byte[ThroughputSuite.CHUNK_BYTES];
    try (var in = Files.newInputStream(file)) {
      in.readNBytes(chunk, 0, chunk.length);
    }
    ByteUpload upload = new ByteUpload(target.channel(), chunk);
    long fileBytes = Files.size(file);
    long timeout = Math.max(60_000, fileBytes / 1_000); // 1 MB/s at the very least
    try {
      RateLoop.Step random = () -> upload.send(fileBytes, timeout);
      random.run();
      RateLoop.Rate r = loop(random, fileBytes, measureMillis(budget), recorder);
      recorder.value("random-grpc", r.mibPerSecond(), r.count());
      RateLoop.Step tree = () -> {
        List<byte[]> messages = new ArrayList<>(treeFiles.size());
        for (Path f : treeFiles) {
          messages.add(Files.readAllBytes(f));
        }
        ByteUpload.send(target.channel(), messages, timeout);
      };
      tree.run();
      r = loop(tree, treeBytes, measureMillis(budget), recorder);
      recorder.value("tree-grpc", r.mibPerSecond(), r.count());
    } catch (IOException e) {
      if (e.getCause() != null && Status.fromThrowable(e.getCause()).getCode() == Status.Code.UNIMPLEMENTED) {
        recorder.unavailable("random-grpc", "the host does not serve thunderlink.bench.ByteSink");
        recorder.unavailable("tree-grpc", "the host does not serve thunderlink.bench.ByteSink");
      } else {
        throw e;
      }
    }
  }

  /**
   * Pushes {@code items} in one session, as {@code thunderlink cp} does; returns the modes the files
   * went in.
   *
   * @throws IOException when a file failed or fewer than {@code bytes} were sent
   */
  static Set<TransferMode> push(BulkClient client, List<PushItem> items, long bytes) throws IOException, BulkException {
    Set<TransferMode> modes = EnumSet.noneOf(TransferMode.class);
    long sent = 0;
    try (BulkSession session = client.open()) {
      for (TransferResult r : session.push(items, TransferListener.NONE)) {
        if (!r.ok()) {
          throw new IOException("bulk push of " + r.path() + " failed: " + r.error());
        }
        sent += r.sentBytes();
        if (r.mode() != null) {
          modes.add(r.mode());
        }
      }
    }
    if (sent != bytes) {
      throw new IOException("bulk push sent " + sent + " of " + bytes + " bytes");
    }
    return modes;
  }

  private static RateLoop.Rate loop(RateLoop.Step copy, long bytes, long millis, BenchRecorder recorder) throws Exception {
    return RateLoop.run(copy, bytes, millis, recorder);
  }

  private static List<Path> files(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
