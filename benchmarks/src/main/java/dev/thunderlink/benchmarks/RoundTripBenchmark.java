package dev.thunderlink.benchmarks;

import com.google.protobuf.ByteString;
import dev.thunderlink.benchmarks.internal.BenchLink;
import dev.thunderlink.benchmarks.internal.EchoServer;
import dev.thunderlink.benchmarks.internal.HomeLink;
import dev.thunderlink.benchmarks.internal.LinkPair;
import dev.thunderlink.proto.link.LinkGrpc;
import dev.thunderlink.proto.link.PingRequest;
import dev.thunderlink.proto.link.PingResponse;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.TransportFactory;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
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
 * Round-trip time of a small message over a link profile: a raw TCP echo (the floor) beside
 * thunderlink's own {@code Link/Ping} over the real link - a host {@code LinkServer} and a paired
 * workstation {@code PeerLink}, mutual TLS, the path's tuning - which is what {@code thunderlink
 * ping}, every path probe and every control call pay. Each figure comes per profile, so
 * Thunderbolt and Wi-Fi appear as a pair.
 *
 * <p>Two real machines: {@code -Dthunderlink.bench.peer.<profile>=ADDR} (PeerServer's echo on the
 * peer) plus {@code -Dthunderlink.bench.home=DIR} (a workstation home paired with the host daemon
 * running there; link port {@code -Dthunderlink.bench.linkPort}, default 7420).
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
  private LinkPair linkPair;
  private BenchLink echoLink;
  private BenchLink linkLink;
  private EventLoopGroup remoteGroup;
  private PeerLink peerLink;
  private SocketChannel echo;
  private LinkGrpc.LinkBlockingStub link;
  private ByteBuffer out;
  private ByteBuffer in;
  private PingRequest ping;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    InetSocketAddress anyLoopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    InetSocketAddress echoAddress = null;
    if (BenchLink.isRemote(profile)) {
      String home = System.getProperty("thunderlink.bench.home");
      if (home == null || home.isBlank()) {
        throw new IllegalArgumentException("thunderlink.bench.home: unset (expected: the workstation"
            + " home paired with the host at thunderlink.bench.peer." + profile + ")");
      }
      int port = Integer.getInteger("thunderlink.bench.linkPort", LinkPath.DEFAULT_PORT);
      InetSocketAddress host = new InetSocketAddress(
          InetAddress.getByName(System.getProperty("thunderlink.bench.peer." + profile).trim()), port);
      TransportFactory transport = TransportFactory.auto();
      remoteGroup = transport.newGroup(2, "bench-ws-io");
      peerLink = HomeLink.open(Path.of(home), new LinkPath(pathName(), host, pathKind()), transport, remoteGroup);
    } else {
      echoServer = new EchoServer(anyLoopback);
      echoAddress = echoServer.address();
      linkPair = LinkPair.start();
      linkLink = BenchLink.open(profile, linkPair.hostAddress(), LinkPath.DEFAULT_PORT);
      peerLink = linkPair.connect(pathName(), linkLink.address(), pathKind());
    }
    echoLink = BenchLink.open(profile, echoAddress, BenchLink.ECHO_PORT);

    echo = SocketChannel.open(echoLink.address());
    echo.setOption(StandardSocketOptions.TCP_NODELAY, true);
    out = ByteBuffer.allocateDirect(payloadBytes);
    in = ByteBuffer.allocateDirect(payloadBytes);
    link = LinkGrpc.newBlockingStub(peerLink.channel());
    ping = PingRequest.newBuilder().setPayload(ByteString.copyFrom(new byte[payloadBytes])).build();
    linkPing(); // the first call is not measured
  }

  private String pathName() {
    return BenchLink.pathName(profile);
  }

  private PathKind pathKind() {
    return BenchLink.kindOf(profile);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (echo != null) {
      echo.close();
    }
    if (linkPair != null) {
      linkPair.close(); // closes its PeerLinks
    } else if (peerLink != null) {
      peerLink.close();
    }
    if (remoteGroup != null) {
      remoteGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (echoServer != null) {
      echoServer.close();
    }
    if (echoLink != null) {
      echoLink.close();
    }
    if (linkLink != null) {
      linkLink.close();
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

  /** thunderlink's Link/Ping over the real mutual-TLS link, {@code payloadBytes} each way. */
  @Benchmark
  public PingResponse linkPing() {
    return link.withDeadlineAfter(5, TimeUnit.SECONDS).ping(ping);
  }
}
