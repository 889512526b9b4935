package dev.thunderlink.transport.bulk;

import dev.thunderlink.transport.BulkAcceptor;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TlsContexts;
import dev.thunderlink.transport.bulk.internal.BulkConnection;
import dev.thunderlink.transport.bulk.internal.BulkControlService;
import dev.thunderlink.transport.bulk.internal.HostRole;
import dev.thunderlink.transport.bulk.internal.HostSessions;
import dev.thunderlink.transport.bulk.internal.PermittedRoots;
import io.grpc.BindableService;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host side of the bulk plane. Register {@link #controlService()} on the link server
 * ({@code LinkServer.builder().addService(...)}) and pass this as its bulk acceptor
 * ({@code .bulk(server)}), so both planes share the link port.
 *
 * <p>A bulk connection is admitted when its HELLO carries the one-time ticket of a session
 * the same paired device opened over gRPC; under TLS its certificate must also be pinned and
 * the session owner's. Plaintext is refused unless the config allows it and the connection
 * arrived on a Thunderbolt (or loopback) address of this host.
 *
 * <p>{@link #accept} runs on the connection's event loop; the rest is thread-safe.
 */
public final class BulkServer implements BulkAcceptor {
  private static final Logger log = LoggerFactory.getLogger(BulkServer.class);
  private static final long HELLO_TIMEOUT_SECONDS = 10;

  private final BulkConfig config;
  private final PeerStore peers;
  private final PermittedRoots roots;
  private final HostSessions sessions = new HostSessions();
  private final BulkCounters counters = new BulkCounters();
  private final BulkControlService control;
  private final java.util.Map<Channel, BulkConnection> connections = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.CompletableFuture<Void> drained = new java.util.concurrent.CompletableFuture<>();
  private volatile String refusal;
  private volatile StagedFileListener stagedListener;

  public BulkServer(BulkConfig config, PeerStore peers) {
    this.config = config;
    this.peers = peers;
    this.roots = new PermittedRoots(config.permittedRoots());
    this.control = new BulkControlService(config, sessions, roots);
    peers.onUnpinned(this::cutUnpaired);
  }

  /**
   * Fails the connections of workstations just unpaired on this host, TLS or plaintext (whose
   * client is known by the session it redeemed): their transfers stop now, not when the
   * connection next breaks, and the workstation hears why.
   */
  private void cutUnpaired(java.util.Set<String> fingerprints) {
    connections.forEach((ch, conn) -> {
      String fp = conn.role() instanceof HostRole role ? role.clientFingerprint() : null;
      if (fp != null && fingerprints.contains(fp.toLowerCase(java.util.Locale.ROOT))) {
        log.warn("bulk connection from {} closed: its workstation was unpaired on this host", ch.remoteAddress());
        // not here: this runs under the peer store's lock, and fail() takes the connection's
        ch.eventLoop().execute(() -> conn.fail("bulk connection closed: this workstation was unpaired on the host"
            + " (`thunderlink unpair`); pair again with `thunderlink pair HOST CODE`"));
      }
    });
  }

  /** The gRPC half, for {@code LinkServer.builder().addService}. */
  public BindableService controlService() {
    return control;
  }

  public BulkCounters counters() {
    return counters;
  }

  public BulkConfig config() {
    return config;
  }

  /**
   * Tells {@code listener} of every staged push of at most {@code largestBytes} verified from
   * now on (set it before the link server starts; connections accepted before keep what they
   * had; see {@link StagedFileListener#largestUseful}). The host daemon hands them to its
   * mirror, which then installs them without hashing them again.
   */
  public void onStagedVerified(long largestBytes, StagedFileListener listener) {
    java.util.Objects.requireNonNull(listener);
    this.stagedListener = new StagedFileListener() {
      @Override
      public void verified(java.nio.file.Path partial, long size, long mtimeMillis, byte[] sha256) {
        listener.verified(partial, size, mtimeMillis, sha256);
      }

      @Override
      public long largestUseful() {
        return largestBytes;
      }
    };
  }

  @Override
  public void accept(Channel ch, boolean encrypted) {
    String refused = refusal;
    if (refused != null) {
      log.info("bulk connection from {} refused: {}", ch.remoteAddress(), refused);
      refuse(ch, refused);
      return;
    }
    if (!encrypted) {
      PathKind kind = kindOf(ch);
      if (!config.plaintextOnThunderbolt() || !kind.thunderboltClass()) {
        String why =
            !config.plaintextOnThunderbolt()
                ? "plaintext bulk connections are disabled on this host (bulk encryption is on)"
                : "plaintext bulk connection refused on a " + kind.cliName() + " path (only Thunderbolt)";
        log.warn("bulk connection from {}: {}", ch.remoteAddress(), why);
        refuse(ch, why);
        return;
      }
    }
    HostRole role = new HostRole(sessions, roots, encrypted, stagedListener, peers::isPinned);
    BulkConnection conn = BulkConnection.install(ch, config, counters, encrypted, role, false);
    connections.put(ch, conn);
    ch.closeFuture().addListener(f -> {
      connections.remove(ch);
      checkDrained();
    });
    if (encrypted) {
      SslHandler ssl = ch.pipeline().get(SslHandler.class);
      ssl.handshakeFuture()
          .addListener(
              f -> {
                if (!f.isSuccess()) {
                  return; // the SslHandler closes and logs
                }
                String fp = TlsContexts.peerFingerprint(ssl);
                if (fp == null || !peers.isPinned(fp)) {
                  conn.fail("bulk connection refused: the client certificate is not a paired peer");
                  return;
                }
                role.peerFingerprint(fp);
              });
    }
    ch.eventLoop()
        .schedule(
            () -> {
              if (ch.isActive() && conn.failure() == null && !role.admitted()) {
                conn.fail("no valid HELLO within " + HELLO_TIMEOUT_SECONDS + " s");
              }
            },
            HELLO_TIMEOUT_SECONDS,
            TimeUnit.SECONDS);
  }

  private static void refuse(Channel ch, String why) {
    ch.writeAndFlush(
            dev.thunderlink.transport.bulk.internal.Frame.encode(
                ch.alloc(), dev.thunderlink.transport.bulk.internal.Frame.ERROR, 0, why))
        .addListener(ChannelFutureListener.CLOSE);
  }

  /**
   * Shutdown, first step: new bulk connections are answered with an ERROR frame carrying
   * {@code reason}; transfers under way go on. Any thread.
   */
  public void stopAccepting(String reason) {
    if (refusal == null) {
      refusal = reason;
    }
    checkDrained();
  }

  /** Completes once the server stopped accepting and every bulk connection has closed. */
  public java.util.concurrent.CompletableFuture<Void> drained() {
    return drained;
  }

  /**
   * Shutdown, last step: every open bulk connection gets an ERROR frame with {@code reason} and
   * is closed. A receiver keeps what it has written of an unfinished file (on either side), so
   * the same copy run again resumes from there. Returns one line per connection cut.
   */
  public java.util.List<String> abortAll(String reason) {
    java.util.List<String> lines = new java.util.ArrayList<>();
    for (java.util.Map.Entry<Channel, BulkConnection> e : java.util.List.copyOf(connections.entrySet())) {
      if (e.getKey().isActive()) {
        lines.add("bulk connection from " + e.getKey().remoteAddress() + " (unfinished files kept for resume)");
        e.getValue().fail(reason);
      }
    }
    drained.complete(null);
    return lines;
  }

  /**
   * Waits, at most {@code max}, until every bulk connection has closed. After {@link #abortAll}
   * a connection lingers (reading and dropping) until the peer has read the ERROR frame and hung
   * up; stopping the event loops before that closes the socket with unread data, the kernel sends
   * a reset, and a relay between the two (a router, the link emulator) can drop the ERROR, so the
   * peer's copy says "bulk connection closed" instead of why. Returns whether all closed in time.
   */
  public boolean awaitClosed(java.time.Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    for (Channel ch : java.util.List.copyOf(connections.keySet())) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !ch.closeFuture().await(TimeUnit.NANOSECONDS.toMillis(left) + 1)) {
        return connections.isEmpty();
      }
    }
    return true;
  }

  private void checkDrained() {
    if (refusal != null && connections.isEmpty()) {
      drained.complete(null);
    }
  }

  private static PathKind kindOf(Channel ch) {
    if (!(ch.localAddress() instanceof InetSocketAddress local)) {
      return PathKind.LAN;
    }
    String name = "";
    try {
      NetworkInterface ni = NetworkInterface.getByInetAddress(local.getAddress());
      name = ni == null ? "" : ni.getName();
    } catch (SocketException e) {
      // unknown interface: judged by the address alone
    }
    return PathKind.infer(name, local.getAddress());
  }

  /** Bulk connections open now, for status and tests. */
  public int openConnections() {
    return connections.size();
  }

  /** Open sessions, for status and tests. */
  public int openSessions() {
    return sessions.size();
  }
}
