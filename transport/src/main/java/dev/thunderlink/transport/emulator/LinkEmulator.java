package dev.thunderlink.transport.emulator;

import dev.thunderlink.transport.TransportFactory;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * A user-space TCP relay that makes a loopback connection behave like a given link: every
 * connection accepted on {@link #localAddress()} is relayed to the target, and each direction is
 * held back by the current {@link LinkProfile} (token-bucket rate, one-way delay, jitter without
 * reordering). {@link #cut()} behaves like a pulled cable: nothing is forwarded in either
 * direction and nothing is closed; {@link #restore()} resumes where it stopped.
 *
 * <pre>{@code
 * try (LinkEmulator wifi = LinkEmulator.start(LinkProfile.WIFI,
 *     new InetSocketAddress("127.0.0.1", 0), server.address())) {
 *   connect(wifi.localAddress());   // ~5 ms RTT, 600 Mbit/s
 *   wifi.cut();                      // peers see silence, not a reset
 *   wifi.restore();
 * }
 * }</pre>
 *
 * <p>Threads: the emulator owns a small Netty event-loop group; each relayed connection (both of
 * its sockets) lives on one loop of it. All public methods are thread-safe and never block, except
 * {@link #start} (binds) and {@link #close} (waits for the loops to stop).
 *
 * <p>Memory: each direction holds at most about {@code max(1 MiB, 4 x bandwidth-delay product)}
 * plus one read; above that it stops reading its source, so a fast sender or a cut link is slowed
 * by TCP flow control instead of growing a buffer. The same holds while cut.
 *
 * <p>Limits, stated so no one relies on them: both directions share one profile; a cut does not
 * stop the kernel from accepting new connections (their traffic is held, the target is connected
 * on restore); there is no packet loss, only delay. Delays are kept by event-loop timers, which
 * wake some 0.1 ms late on a loaded machine; the emulator learns that lateness and fires early by
 * as much, so the mean delay stays on target, and a delay shorter than it (the 0.05 ms of
 * {@code thunderbolt}) is delivered at once: what remains is the relay's own latency, some
 * 10-20 us per direction here.
 */
public final class LinkEmulator implements AutoCloseable {

  private final InetSocketAddress target;
  private final TransportFactory transport;
  private final EventLoopGroup group;
  private final Set<RelayConnection> connections = ConcurrentHashMap.newKeySet();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder bytesToTarget = new LongAdder();
  private final LongAdder bytesToClient = new LongAdder();
  private final LongAdder bytesHeld = new LongAdder();
  private volatile LinkProfile profile;
  private volatile boolean cut;
  private volatile boolean closed;
  /** Last timer lateness learnt by any delay line; a starting point for new ones. A hint only. */
  private volatile long timerSlackHint = 100_000;
  private Channel serverChannel;

  private LinkEmulator(LinkProfile profile, InetSocketAddress target) {
    this.profile = profile;
    this.target = target;
    // The one transport factory; its automatic choice is native (epoll/kqueue) where it loads,
    // whose timers have the sub-millisecond resolution a 0.05 ms profile needs.
    this.transport = TransportFactory.auto();
    this.group = transport.newGroup(Math.min(2, Runtime.getRuntime().availableProcessors()), "link-emulator");
  }

  /**
   * Starts relaying connections accepted on {@code listen} (port 0 picks a free port) to {@code
   * target} under {@code profile}.
   *
   * @throws IOException if {@code listen} cannot be bound
   */
  public static LinkEmulator start(
      LinkProfile profile, InetSocketAddress listen, InetSocketAddress target) throws IOException {
    Objects.requireNonNull(profile, "profile");
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(target, "target");
    LinkEmulator emulator = new LinkEmulator(profile, target);
    emulator.bind(listen);
    return emulator;
  }

  /** The address clients connect to. */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /** The current profile. */
  public LinkProfile profile() {
    return profile;
  }

  /** Applies {@code newProfile} to every byte read from now on, on all connections. */
  public void setProfile(LinkProfile newProfile) {
    this.profile = Objects.requireNonNull(newProfile, "newProfile");
    forEachConnection(RelayConnection::resume);
  }

  /** Pulls the cable: stops forwarding in both directions on every connection, closes nothing. */
  public void cut() {
    cut = true;
    forEachConnection(RelayConnection::pause);
  }

  /** Plugs the cable back in: held bytes are delivered and reading resumes. */
  public void restore() {
    cut = false;
    forEachConnection(RelayConnection::resume);
  }

  /** Whether the link is currently cut. */
  public boolean isCut() {
    return cut;
  }

  /** A snapshot of the counters. */
  public LinkStats stats() {
    return new LinkStats(
        accepted.sum(), connections.size(), bytesToTarget.sum(), bytesToClient.sum(),
        bytesHeld.sum(), cut);
  }

  /**
   * Stops listening, closes every relayed connection (both sides) and stops the event loops,
   * waiting up to five seconds. Idempotent. Restores the interrupt flag if interrupted.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (serverChannel != null) {
      serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    forEachConnection(RelayConnection::close);
    try {
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "LinkEmulator[" + profile + ", " + (serverChannel == null ? "unbound" : localAddress())
        + " -> " + target + (cut ? ", CUT" : "") + "]";
  }

  InetSocketAddress target() {
    return target;
  }

  TransportFactory transport() {
    return transport;
  }

  void delivered(boolean toTarget, int bytes) {
    (toTarget ? bytesToTarget : bytesToClient).add(bytes);
  }

  long timerSlackHint() {
    return timerSlackHint;
  }

  void timerSlackHint(long nanos) {
    timerSlackHint = nanos;
  }

  void addHeld(long bytes) {
    bytesHeld.add(bytes);
  }

  void removed(RelayConnection connection) {
    connections.remove(connection);
  }

  private void forEachConnection(Consumer<RelayConnection> action) {
    for (RelayConnection c : connections) {
      EventLoop loop = c.eventLoop();
      if (!loop.isShuttingDown()) {
        loop.execute(() -> action.accept(c));
      }
    }
  }

  private void bind(InetSocketAddress listen) throws IOException {
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(transport.serverChannelClass())
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childOption(ChannelOption.AUTO_READ, false)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            if (closed) {
              ch.close();
              return;
            }
            accepted.increment();
            RelayConnection connection = new RelayConnection(LinkEmulator.this, ch);
            connections.add(connection);
            connection.start();
          }
        });
    ChannelFuture bound = bootstrap.bind(listen).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      Throwable cause = bound.cause();
      throw new IOException("cannot listen on " + listen + ": " + cause.getMessage(), cause);
    }
    serverChannel = bound.channel();
  }
}
