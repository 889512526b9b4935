package dev.thunderlink.benchmarks;

import dev.thunderlink.benchmarks.internal.BenchLink;
import dev.thunderlink.benchmarks.internal.BulkSinkServer;
import dev.thunderlink.benchmarks.internal.EchoServer;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The far side of the raw TCP baselines on a second, real machine: serves the echo and bulk-sink
 * services on ports 7101 and 7102 of every address until killed. thunderlink's own figures travel
 * the host daemon's link (pair first). Then, on the first machine:
 *
 * <pre>
 *   thunderlink bench --path tb=169.254.3.7:7420 --path wifi=192.168.1.20:7420
 *   java -Dthunderlink.bench.peer.thunderbolt=169.254.3.7 -Dthunderlink.bench.peer.wifi=192.168.1.20 \
 *        -Dthunderlink.bench.home=$HOME/.thunderlink -jar benchmarks.jar
 * </pre>
 *
 * Run it with {@code java -cp benchmarks.jar dev.thunderlink.benchmarks.PeerServer [BIND_HOST]}.
 * It serves plain TCP with no authentication: run it only on a trusted link, only while measuring.
 */
public final class PeerServer {

  private PeerServer() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    String host = args.length > 0 ? args[0] : "0.0.0.0";
    try (EchoServer echo = new EchoServer(new InetSocketAddress(host, BenchLink.ECHO_PORT));
        BulkSinkServer bulk = new BulkSinkServer(new InetSocketAddress(host, BenchLink.BULK_PORT))) {
      System.out.println("benchmark peer: echo " + echo.address() + ", bulk " + bulk.address()
          + " (plain TCP, unauthenticated; Ctrl-C stops)");
      Thread.currentThread().join(); // serve until killed
    }
  }
}
