package dev.thunderlink.benchmarks;

import dev.thunderlink.benchmarks.internal.EchoServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

/**
 * The baseline for {@code thunderlink ping}: round trips of a small message through a raw
 * TCP echo server on loopback (blocking sockets, TCP_NODELAY), on this machine, now.
 * Prints one JSON object with min/p50/p99/max in microseconds.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.thunderlink.benchmarks.EchoLatency [COUNT] [BYTES]}
 */
public final class EchoLatency {
  private EchoLatency() {}

  public static void main(String[] args) throws IOException {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    int bytes = args.length > 1 ? Integer.parseInt(args[1]) : 32;
    if (count < 1 || bytes < 1) {
      System.err.println("usage: EchoLatency [COUNT >= 1] [BYTES >= 1]");
      System.exit(2);
    }
    try (EchoServer server = new EchoServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        SocketChannel ch = SocketChannel.open(server.address())) {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ByteBuffer out = ByteBuffer.allocateDirect(bytes);
      ByteBuffer in = ByteBuffer.allocateDirect(bytes);
      long[] rtt = new long[count];
      for (int warm = 0; warm < 2; warm++) { // first pass warms the JIT, second is measured
        for (int i = 0; i < count; i++) {
          out.clear();
          in.clear();
          long t0 = System.nanoTime();
          while (out.hasRemaining()) {
            ch.write(out);
          }
          while (in.hasRemaining()) {
            if (ch.read(in) < 0) {
              throw new IOException("echo server closed");
            }
          }
          rtt[i] = System.nanoTime() - t0;
        }
      }
      Arrays.sort(rtt);
      System.out.printf(
          "{\"count\": %d, \"bytes\": %d, \"min_us\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f}%n",
          count, bytes, rtt[0] / 1e3, pct(rtt, 50) / 1e3, pct(rtt, 99) / 1e3, rtt[count - 1] / 1e3);
    }
  }

  private static long pct(long[] sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
