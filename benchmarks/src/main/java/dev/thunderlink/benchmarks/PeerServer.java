package dev.thunderlink.benchmarks;

import dev.thunderlink.benchmarks.internal.BenchLink;
import dev.thunderlink.benchmarks.internal.BulkSinkServer;
import dev.thunderlink.benchmarks.internal.EchoServer;
import dev.thunderlink.benchmarks.internal.PingService;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The far side of the benchmarks on a second, real machine: serves the echo, bulk-sink and gRPC
 * ping services on ports 7101-7103 of every address until killed. Then, on the first machine:
 *
 * <pre>
 *   java -Dthunderlink.bench.peer.thunderbolt=169.254.3.7 -Dthunderlink.bench.peer.wifi=192.168.1.20 \
 *        -jar benchmarks.jar
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
      Server grpc = NettyServerBuilder.forAddress(new InetSocketAddress(host, BenchLink.GRPC_PORT))
          .addService(PingService.definition())
          .build()
          .start();
      System.out.println("benchmark peer: echo " + echo.address() + ", bulk " + bulk.address()
          + ", grpc ping port " + grpc.getPort() + " (plain TCP, unauthenticated; Ctrl-C stops)");
      grpc.awaitTermination();
    }
  }
}
