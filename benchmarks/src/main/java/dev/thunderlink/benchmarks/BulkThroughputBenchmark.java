package dev.thunderlink.benchmarks;

import dev.thunderlink.benchmarks.internal.BenchLink;
import dev.thunderlink.benchmarks.internal.BulkSinkServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Raw TCP bulk throughput over a link profile: one connection, random bytes from a direct buffer,
 * acknowledged by the far end once the last byte has arrived. This is the "limit" every
 * thunderlink bulk mode is compared with on the same path (iperf3 gives the same figure from
 * outside the JVM; see peer-compare.sh).
 *
 * <p>Read the {@code mebibytes} line of the output: MiB/s. The primary score is transfers/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class BulkThroughputBenchmark {

  @Param({"thunderbolt", "wifi"})
  public String profile;

  /** Bytes per transfer, in MiB. */
  @Param({"16"})
  public int transferMiB;

  private BulkSinkServer sink;
  private BenchLink link;
  private SocketChannel channel;
  private ByteBuffer block;
  private final ByteBuffer header = ByteBuffer.allocate(Long.BYTES);
  private final ByteBuffer ack = ByteBuffer.allocate(1);

  /** Per-iteration counter JMH divides by time: MiB/s. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Moved {
    public long mebibytes;

    @Setup(Level.Iteration)
    public void reset() {
      mebibytes = 0;
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    InetSocketAddress local = null;
    if (!BenchLink.isRemote(profile)) {
      sink = new BulkSinkServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      local = sink.address();
    }
    link = BenchLink.open(profile, local, BenchLink.BULK_PORT);
    channel = SocketChannel.open(link.address());
    block = ByteBuffer.allocateDirect(1 << 20);
    SplittableRandom random = new SplittableRandom(1);
    while (block.remaining() >= Long.BYTES) {
      block.putLong(random.nextLong());
    }
    block.flip();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (channel != null) {
      channel.close();
    }
    if (sink != null) {
      sink.close();
    }
    if (link != null) {
      link.close();
    }
  }

  /** Sends {@code transferMiB} MiB and waits for the far end's acknowledgement. */
  @Benchmark
  public void tcpBulk(Moved moved) throws IOException {
    long bytes = (long) transferMiB << 20;
    header.clear();
    header.putLong(bytes).flip();
    while (header.hasRemaining()) {
      channel.write(header);
    }
    for (int i = 0; i < transferMiB; i++) {
      block.rewind();
      while (block.hasRemaining()) {
        channel.write(block);
      }
    }
    ack.clear();
    if (channel.read(ack) < 0) {
      throw new IOException("bulk sink closed the connection");
    }
    moved.mebibytes += transferMiB;
  }
}
