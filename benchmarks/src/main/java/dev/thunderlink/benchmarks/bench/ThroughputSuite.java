package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.benchmarks.internal.ByteUpload;
import dev.thunderlink.benchmarks.internal.RawTcpClient;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code throughput}: workstation-to-host bytes per second over one path. gRPC client streaming
 * of 256 KiB chunks over the real link (mutual TLS, flow control, the path's tuning) to a byte
 * sink registered on the host's {@code LinkServer}, beside raw TCP bulk through the same path: the
 * limit. The bulk plane, in the mode the sender picks and in each forced mode, is the {@code
 * bulk-modes} suite.
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
        + " MiB random bytes per call), beside one raw TCP connection through the same path (plaintext,"
        + " no framing): the limit. The bulk plane (what `thunderlink cp` uses) is in `bulk-modes`."
        + " Higher is better.";
  }

  @Override
  public List<BenchMetric> metrics() {
    return List.of(
        BenchMetric.measured("grpc-stream", "gRPC stream over the link", "MiB/s", true, "raw-tcp"),
        BenchMetric.limit("raw-tcp", "raw TCP bulk", "MiB/s", true));
  }

  private static long warmMillis(BenchBudget b) {
    return b.millis(500);
  }

  private static long measureMillis(BenchBudget b) {
    return b.millis(1500);
  }

  @Override
  public long plannedMillis(BenchBudget budget) {
    return 2 * (warmMillis(budget) + measureMillis(budget));
  }

  @Override
  public void run(BenchTarget target, BenchBudget budget, BenchRecorder recorder) throws Exception {
    recorder.phase("gRPC stream over " + target.label());
    byte[] chunk = new byte[CHUNK_BYTES];
    new SplittableRandom(7).nextBytes(chunk);
    ByteUpload upload = new ByteUpload(target.channel(), chunk);
    long timeout = 60_000;
    try {
      RateLoop.Step grpc = () -> upload.send((long) TRANSFER_MIB << 20, timeout);
      loop(grpc, warmMillis(budget), recorder);
      RateLoop.Rate r = loop(grpc, measureMillis(budget), recorder);
      recorder.value("grpc-stream", r.mibPerSecond(), r.count());
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

    if (target.rawBulkAddress().isEmpty()) {
      recorder.unavailable("raw-tcp", target.rawUnavailable());
      recorder.worked(warmMillis(budget) + measureMillis(budget));
      return;
    }
    recorder.phase("raw TCP bulk over " + target.label());
    try (RawTcpClient client = RawTcpClient.bulk(target.rawBulkAddress().get())) {
      RateLoop.Step raw = () -> client.transfer(TRANSFER_MIB);
      loop(raw, warmMillis(budget), recorder);
      RateLoop.Rate r = loop(raw, measureMillis(budget), recorder);
      recorder.value("raw-tcp", r.mibPerSecond(), r.count());
    }
  }

  private static RateLoop.Rate loop(RateLoop.Step t, long millis, BenchRecorder recorder) throws Exception {
    return RateLoop.run(t, (long) TRANSFER_MIB << 20, millis, recorder);
  }
}
