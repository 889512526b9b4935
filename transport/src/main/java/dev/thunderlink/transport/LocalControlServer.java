package dev.thunderlink.transport;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thunderlink.transport.internal.ControlSocketChannel;
import dev.thunderlink.transport.internal.ControlSocketServer;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * A daemon's local control endpoint: gRPC on 127.0.0.1 only, every call carrying the bearer
 * token from {@code HOME/control.json} (readable by the owner only). {@code thunderlink
 * status}, editors and scripts find the port and token in that file.
 *
 * <p>The same services also answer on {@code HOME/control.sock}, a Unix domain socket (owner
 * only, the same token) with a framing of its own ({@code ControlFrames}) relayed to them
 * in-process; {@link #connect} uses it when the file names it. A command that talks to its daemon
 * then loads no Netty, no HTTP/2 and no gRPC transport: on this 2-core machine that was ~0.3 s of
 * each `thunderlink status` or `cp` (~2,000 classes). The TCP endpoint stays for other clients,
 * and for a daemon that could not make the socket (a home path too long for one).
 *
 * <p>Lifecycle: {@link #start()}, then {@link #close()}, which also deletes the files. Shutdown
 * order: the socket (no new calls), the in-process relay, the TCP server.
 */
public final class LocalControlServer implements AutoCloseable {
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Path home;
  private final int port;
  private final String role;
  private final List<ServerServiceDefinition> services;
  private final TransportFactory transport;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final String token;
  private Server server;
  private Server relay;
  private ManagedChannel relayChannel;
  private ControlSocketServer socket;

  public LocalControlServer(
      Path home,
      int port,
      String role,
      List<ServerServiceDefinition> services,
      TransportFactory transport,
      EventLoopGroup boss,
      EventLoopGroup workers) {
    this.home = home;
    this.port = port;
    this.role = role;
    this.services = List.copyOf(services);
    this.transport = transport;
    this.boss = boss;
    this.workers = workers;
    byte[] t = new byte[24];
    new SecureRandom().nextBytes(t);
    this.token = HexFormat.of().formatHex(t);
  }

  /** Convenience for bindable services. */
  public static ServerServiceDefinition definition(BindableService s) {
    return s.bindService();
  }

  public LocalControlServer start() throws IOException {
    NettyServerBuilder nb =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(workers)
            .channelType(transport.serverChannelClass())
            .maxInboundMessageSize(16 * 1024 * 1024);
    ServerInterceptor auth = new TokenCheck(token);
    String relayName = InProcessServerBuilder.generateName();
    InProcessServerBuilder rb = InProcessServerBuilder.forName(relayName).maxInboundMessageSize(16 * 1024 * 1024);
    for (ServerServiceDefinition s : services) {
      ServerServiceDefinition checked = ServerInterceptors.intercept(s, auth);
      nb.addService(checked);
      rb.addService(checked);
    }
    try {
      server = nb.build().start();
    } catch (IOException e) {
      throw new IOException(
          "cannot open the local control port 127.0.0.1:" + port + " (" + e.getCause() + "); choose another with --control-port",
          e);
    }
    relay = rb.build().start();
    relayChannel = InProcessChannelBuilder.forName(relayName).maxInboundMessageSize(16 * 1024 * 1024).build();
    try {
      socket = ControlSocketServer.open(home.resolve("control.sock"), relayChannel);
    } catch (IOException | UnsupportedOperationException e) {
      // a logger of the server's only: the commands' start-up did not need logback's (~0.05 s)
      LoggerFactory.getLogger(LocalControlServer.class)
          .warn("no control socket in {} ({}); local commands use the TCP endpoint", home, e.toString());
    }
    writeControlFile();
    return this;
  }

  public int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  private void writeControlFile() throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("port", port());
    m.put("token", token);
    m.put("pid", ProcessHandle.current().pid());
    m.put("role", role);
    m.put("version", LinkVersion.DAEMON);
    if (socket != null) {
      m.put("socket", socket.path().toString());
    }
    Path file = home.resolve("control.json");
    Path tmp = home.resolve("control.json.tmp");
    Files.deleteIfExists(tmp);
    try {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(tmp);
    }
    Files.write(tmp, new ObjectMapper().writeValueAsBytes(m));
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  public void close(long grace, TimeUnit unit) throws InterruptedException {
    if (server == null) {
      return;
    }
    try {
      Path file = home.resolve("control.json");
      Map<String, Object> m = Files.exists(file) ? readControlFile(file) : Map.of();
      if (token.equals(m.get("token"))) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      // best effort: a stale file is detected by the next client (connection refused)
    }
    if (socket != null) {
      socket.close();
    }
    long deadline = System.nanoTime() + unit.toNanos(grace);
    for (Server s : new Server[] {relay, server}) {
      s.shutdown();
      if (!s.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        s.shutdownNow();
      }
    }
    relayChannel.shutdownNow();
  }

  @Override
  public void close() {
    try {
      close(3, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static final class TokenCheck implements ServerInterceptor {
    private final byte[] expected;

    TokenCheck(String token) {
      this.expected = ("Bearer " + token).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      String got = headers.get(AUTHORIZATION);
      if (got == null
          || !MessageDigest.isEqual(expected, got.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
        call.close(
            Status.UNAUTHENTICATED.withDescription(
                "missing or wrong control token (read it from control.json in the daemon's home)"),
            new Metadata());
        return new ServerCall.Listener<>() {};
      }
      return next.startCall(call, headers);
    }
  }

  /** What a client needs: the channel (token attached) and who answers. */
  public record Connection(ManagedChannel channel, String role, long pid) implements AutoCloseable {
    @Override
    public void close() {
      channel.shutdownNow();
      try {
        channel.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Connects to the daemon running with {@code home}.
   *
   * @throws IOException with what to do when no daemon runs there
   */
  public static Connection connect(Path home) throws IOException {
    Path file = home.resolve("control.json");
    if (!Files.exists(file)) {
      throw new IOException(
          "no thunderlink daemon is running for home " + home
              + "; start one with `thunderlink serve` (host) or `thunderlink connect HOST` (workstation)");
    }
    Map<String, Object> m;
    try {
      m = readControlFile(file);
    } catch (IOException | RuntimeException e) {
      throw new IOException("cannot read " + file + ": " + e.getMessage());
    }
    int port = ((Number) m.get("port")).intValue();
    long pid = ((Number) m.get("pid")).longValue();
    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) == false) {
      throw new IOException(
          "the thunderlink daemon for home " + home + " (pid " + pid + ") is not running any more; start it again");
    }
    Metadata md = new Metadata();
    md.put(AUTHORIZATION, "Bearer " + m.get("token"));
    Object socket = m.get("socket");
    ManagedChannel ch =
        socket instanceof String s && Files.exists(Path.of(s))
            ? new ControlSocketChannel(Path.of(s), md)
            : TcpClient.channel(port, md);
    return new Connection(ch, String.valueOf(m.get("role")), pid);
  }

  /**
   * The control file's fields, read with Jackson's streaming parser: {@code ObjectMapper} alone
   * loaded ~450 classes into every command (~0.08 s here).
   */
  private static Map<String, Object> readControlFile(Path file) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    try (JsonParser p = new JsonFactory().createParser(file.toFile())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        if (t.isNumeric()) {
          m.put(name, p.getNumberValue());
        } else if (t.isScalarValue()) {
          m.put(name, p.getValueAsString());
        } else {
          p.skipChildren(); // none yet: a newer daemon's
        }
      }
    }
    return m;
  }

  /** The TCP endpoint's client, apart so that loading this class does not load Netty. */
  private static final class TcpClient {
    static ManagedChannel channel(int port, Metadata md) {
      return NettyChannelBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
          .usePlaintext()
          .maxInboundMessageSize(16 * 1024 * 1024)
          .intercept(MetadataUtils.newAttachHeadersInterceptor(md))
          .build();
    }
  }

}
