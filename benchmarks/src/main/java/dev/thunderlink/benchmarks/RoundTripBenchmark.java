package dev.thunderlink.benchmarks;

import dev.thunderlink.benchmarks.internal.BenchLink;
import dev.thunderlink.benchmarks.internal.EchoServer;
import dev.thunderlink.benchmarks.internal.PingService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
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
 * Round-trip time of a small message over a link profile: a raw TCP echo (the floor) beside a
 * gRPC unary ping (what every control call pays). Each figure comes per profile, so Thunderbolt
 * and Wi-Fi appear as a pair.
 *
 * <p>Runs on the JMH benchmark thread; the servers run on their own threads (or on the real peer,
 * see {@link BenchLink}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class RoundTripBenchmark {

  @Param({"thunderbolt", "wifi"})
  public String profile;

  @Param({"64"})
  public int payloadBytes;

  private EchoServer echoServer;
  private Server grpcServer;
  private BenchLink echoLink;
  private BenchLink grpcLink;
  private SocketChannel echo;
  private ManagedChannel channel;
  private ByteBuffer out;
  private ByteBuffer in;
  private byte[] ping;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    InetSocketAddress anyLoopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    InetSocketAddress echoAddress = null;
    InetSocketAddress grpcAddress = null;
    if (!BenchLink.isRemote(profile)) {
      echoServer = new EchoServer(anyLoopback);
      echoAddress = echoServer.address();
      grpcServer = NettyServerBuilder.forAddress(anyLoopback)
          .addService(PingService.definition())
          .build()
          .start();
      grpcAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(), grpcServer.getPort());
    }
    echoLink = BenchLink.open(profile, echoAddress, BenchLink.ECHO_PORT);
    grpcLink = BenchLink.open(profile, grpcAddress, BenchLink.GRPC_PORT);

    echo = SocketChannel.open(echoLink.address());
    echo.setOption(StandardSocketOptions.TCP_NODELAY, true);
    out = ByteBuffer.allocateDirect(payloadBytes);
    in = ByteBuffer.allocateDirect(payloadBytes);
    channel = NettyChannelBuilder.forAddress(grpcLink.address()).usePlaintext().build();
    ping = new byte[payloadBytes];
    grpcPing(); // connect now, not in the first measured call
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (echo != null) {
      echo.close();
    }
    if (grpcServer != null) {
      grpcServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (echoServer != null) {
      echoServer.close();
    }
    if (echoLink != null) {
      echoLink.close();
    }
    if (grpcLink != null) {
      grpcLink.close();
    }
  }

  /** Raw TCP: write {@code payloadBytes}, read them back. */
  @Benchmark
  public int tcpEcho() throws IOException {
    out.clear();
    while (out.hasRemaining()) {
      echo.write(out);
    }
    in.clear();
    while (in.hasRemaining()) {
      if (echo.read(in) < 0) {
        throw new IOException("echo server closed the connection");
      }
    }
    return in.get(0);
  }

  /** gRPC unary call carrying {@code payloadBytes} each way. */
  @Benchmark
  public byte[] grpcPing() {
    return ClientCalls.blockingUnaryCall(channel, PingService.PING, CallOptions.DEFAULT, ping);
  }
}
