package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.benchmarks.internal.ByteUpload;
import dev.thunderlink.benchmarks.internal.RawTcpClient;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import dev.thunderlink.transport.bulk.BulkException;
import dev.thunderlink.transport.bulk.BulkSession;
import dev.thunderlink.transport.bulk.PushItem;
import dev.thunderlink.transport.bulk.TransferListener;
import dev.thunderlink.transport.bulk.TransferMode;
import dev.thunderlink.transport.bulk.TransferResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code throughput}: workstation-to-host bytes per second over one path. gRPC client streaming
 * of 256 KiB chunks over the real link (mutual TLS, flow control, the path's tuning) to a byte
 * sink registered on the host's {@code LinkServer}, beside raw TCP bulk through the same path: the
 * limit. The bulk plane's own modes come as the {@code bulk-modes} suite.
 */
final class ThroughputSuite implements BenchSuite {
  static final int TRANSFER_MIB = 16;
  static final int CHUNK_BYTES = 256 * 1024;

  @Override
  public String id() {
    return "throughput";
  }

  @Override
  public String title() {
    return "Throughput";
  }

  @Override
  public String description() {
    return "Bytes from workstation to host, each transfer acknowledged by the host: gRPC client"
        + " streaming of " + CHUNK_BYTES / 1024 + " KiB chunks over the link (mutual TLS, " + TRANSFER_MIB
        + " MiB random bytes per call); the bulk plane pushing a " + FILE_MIB + " MiB file (SHA-256"
        + " verified), random bytes and source-like text, in the mode the sender picks on the path"
        + " (plaintext zero-copy on Thunderbolt, TLS on Wi-Fi; LZ4 for text, which can beat the"
        + " limit); beside one raw TCP connection through the same path (plaintext, no framing):"
        + " the limit. Higher is better.";
  }

  @Override
  public List<BenchMetric> metrics() {
    return List.of(
        BenchMetric.measured("grpc-stream", "gRPC stream over the link", "MiB/s", true, "raw-tcp"),
        BenchMetric.measured("bulk-random", "bulk plane, random file", "MiB/s", true, "raw-tcp"),
        BenchMetric.measured("bulk-text", "bulk plane, source-like text", "MiB/s", true, "raw-tcp"),
        BenchMetric.limit("raw-tcp", "raw TCP bulk", "MiB/s", true));
  }

  static final int FILE_MIB = 32;

  private static long warmMillis(BenchBudget b) {
    return b.millis(1000);
  }

  private static long measureMillis(BenchBudget b) {
    return b.millis(3000);
  }

  @Override
  public long plannedMillis(BenchBudget budget) {
    return 4 * (warmMillis(budget) + measureMillis(budget));
  }

  @Override
  public void run(BenchTarget target, BenchBudget budget, BenchRecorder recorder) throws Exception {
    recorder.phase("gRPC stream over " + target.label());
    byte[] chunk = new byte[CHUNK_BYTES];
    new SplittableRandom(7).nextBytes(chunk);
    ByteUpload upload = new ByteUpload(target.channel(), chunk);
    long timeout = 60_000;
    try {
      Transfer grpc = () -> upload.send((long) TRANSFER_MIB << 20, timeout);
      loop(grpc, warmMillis(budget), recorder);
      Rate r = loop(grpc, measureMillis(budget), recorder);
      recorder.value("grpc-stream", r.mibPerSecond(), r.transfers);
    } catch (IOException e) {
      if (e.getCause() != null && Status.fromThrowable(e.getCause()).getCode() == Status.Code.UNIMPLEMENTED) {
        recorder.unavailable("grpc-stream", "the host does not serve thunderlink.bench.ByteSink");
        recorder.worked(warmMillis(budget) + measureMillis(budget));
      } else {
        throw e;
      }
    } catch (StatusRuntimeException e) {
      throw new IOException("gRPC upload failed: " + e.getStatus(), e);
    }

    if (target.bulk() == null || target.hostScratch() == null) {
      String why = "needs a host-side directory: measured with --emulate in this version";
      recorder.unavailable("bulk-random", why);
      recorder.unavailable("bulk-text", why);
      recorder.worked(2 * (warmMillis(budget) + measureMillis(budget)));
    } else {
      bulk(target, budget, recorder, "bulk-random", false);
      bulk(target, budget, recorder, "bulk-text", true);
    }

    if (target.rawBulkAddress().isEmpty()) {
      recorder.unavailable("raw-tcp", target.rawUnavailable());
      recorder.worked(warmMillis(budget) + measureMillis(budget));
      return;
    }
    recorder.phase("raw TCP bulk over " + target.label());
    try (RawTcpClient client = RawTcpClient.bulk(target.rawBulkAddress().get())) {
      Transfer raw = () -> client.transfer(TRANSFER_MIB);
      loop(raw, warmMillis(budget), recorder);
      Rate r = loop(raw, measureMillis(budget), recorder);
      recorder.value("raw-tcp", r.mibPerSecond(), r.transfers);
    }
  }

  /**
   * Pushes a {@value #FILE_MIB} MiB file again and again through the bulk plane, one session per
   * push, each to a new name that is deleted on the host right after (so nothing is skipped as
   * already there and the disk does not fill).
   */
  private static void bulk(BenchTarget target, BenchBudget budget, BenchRecorder recorder, String metric,
      boolean text) throws Exception {
    recorder.phase("bulk plane (" + (text ? "text" : "random") + ") over " + target.label());
    Path local = Files.createDirectories(target.hostScratch().resolve("workstation-bulk")).resolve(metric);
    dev.thunderlink.benchmarks.workload.Payloads.write(local, (long) FILE_MIB << 20, text);
    Path hostDir = Files.createDirectories(target.hostScratch().resolve("bulk"));
    String remoteDir = target.hostScratch().getFileName() + "/bulk/";
    Set<TransferMode> modes = EnumSet.noneOf(TransferMode.class);
    long[] n = {0};
    Transfer push = () -> {
      String name = metric + "-" + n[0]++;
      try (BulkSession session = target.bulk().open()) {
        TransferResult r = session.push(List.of(new PushItem(local, remoteDir + name, null)), TransferListener.NONE).get(0);
        if (!r.ok()) {
          throw new IOException("bulk push failed: " + r.error());
        }
        if (r.skipped() || r.sentBytes() != (long) FILE_MIB << 20) {
          throw new IOException("bulk push sent " + r.sentBytes() + " of " + ((long) FILE_MIB << 20) + " bytes");
        }
        if (r.mode() != null) {
          modes.add(r.mode());
        }
      } finally {
        Files.deleteIfExists(hostDir.resolve(name));
      }
    };
    loop(push, warmMillis(budget), recorder, FILE_MIB);
    Rate r = loop(push, measureMillis(budget), recorder, FILE_MIB);
    recorder.value(metric, r.mibPerSecond(), r.transfers);
    recorder.note(target.label() + ", " + (text ? "text" : "random file") + ": the sender chose "
        + modes.stream().map(TransferMode::cliName).sorted().toList());
    Files.deleteIfExists(local);
  }


  private interface Transfer {
    void run() throws IOException, InterruptedException, BulkException;
  }

  private record Rate(long transfers, long nanos, int mibPerTransfer) {
    double mibPerSecond() {
      return transfers * (double) mibPerTransfer / (nanos / 1e9);
    }
  }

  private static Rate loop(Transfer t, long millis, BenchRecorder recorder)
      throws IOException, InterruptedException {
    return loop(t, millis, recorder, TRANSFER_MIB);
  }

  /** Transfers of {@code mib} MiB until {@code millis} have passed (at least one). */
  private static Rate loop(Transfer t, long millis, BenchRecorder recorder, int mib)
      throws IOException, InterruptedException {
    long start = System.nanoTime();
    long end = start + millis * 1_000_000;
    long reported = start;
    long n = 0;
    do {
      t.run();
      n++;
      long now = System.nanoTime();
      recorder.worked((now - reported) / 1_000_000);
      reported = now;
    } while (System.nanoTime() < end);
    return new Rate(n, System.nanoTime() - start, mib);
  }
}
