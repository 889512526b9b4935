package dev.thunderlink.benchmarks;

import dev.thunderlink.benchmarks.internal.EchoServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.Locale;

/**
 * Round-trip probe for scripts (peer-compare.sh measures an {@code ssh -L} tunnel with it):
 *
 * <pre>
 *   java -cp benchmarks.jar dev.thunderlink.benchmarks.RttProbe serve PORT
 *   java -cp benchmarks.jar dev.thunderlink.benchmarks.RttProbe probe HOST:PORT [COUNT]
 * </pre>
 *
 * {@code serve} echoes on 127.0.0.1:PORT until killed; {@code probe} sends COUNT (default 2000)
 * 64-byte messages one at a time after 200 unmeasured ones and prints
 * {@code rtt_us median=.. p99=.. mean=..}. Bad input prints a one-line error and exits 2.
 */
public final class RttProbe {

  private RttProbe() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    try {
      if (args.length >= 2 && args[0].equals("serve")) {
        int port = Integer.parseInt(args[1]);
        try (EchoServer server =
            new EchoServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
          System.out.println("echo on " + server.address());
          Thread.currentThread().join(); // serve until killed
        }
      } else if (args.length >= 2 && args[0].equals("probe")) {
        int colon = args[1].lastIndexOf(':');
        if (colon < 0) {
          throw new IllegalArgumentException("address: '" + args[1] + "' (expected: HOST:PORT)");
        }
        InetSocketAddress address = new InetSocketAddress(args[1].substring(0, colon),
            Integer.parseInt(args[1].substring(colon + 1)));
        int count = args.length > 2 ? Integer.parseInt(args[2]) : 2000;
        if (count < 1) {
          throw new IllegalArgumentException("count: " + count + " (expected: >= 1)");
        }
        System.out.println(probe(address, count));
      } else {
        throw new IllegalArgumentException("usage: serve PORT | probe HOST:PORT [COUNT]");
      }
    } catch (NumberFormatException e) {
      System.err.println("error: not a number: " + e.getMessage());
      System.exit(2);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    }
  }

  static String probe(InetSocketAddress address, int count) throws IOException {
    try (SocketChannel channel = SocketChannel.open(address)) {
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ByteBuffer out = ByteBuffer.allocateDirect(64);
      ByteBuffer in = ByteBuffer.allocateDirect(64);
      long[] rtt = new long[count];
      for (int i = -200; i < count; i++) {
        long t0 = System.nanoTime();
        out.clear();
        while (out.hasRemaining()) {
          channel.write(out);
        }
        in.clear();
        while (in.hasRemaining()) {
          if (channel.read(in) < 0) {
            throw new IOException("echo closed the connection");
          }
        }
        if (i >= 0) {
          rtt[i] = System.nanoTime() - t0;
        }
      }
      Arrays.sort(rtt);
      double mean = Arrays.stream(rtt).average().orElse(0);
      return String.format(Locale.ROOT, "rtt_us median=%.1f p99=%.1f mean=%.1f",
          rtt[count / 2] / 1e3, rtt[Math.min(count - 1, (int) (count * 0.99))] / 1e3, mean / 1e3);
    }
  }
}
