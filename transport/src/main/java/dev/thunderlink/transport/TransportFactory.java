package dev.thunderlink.transport;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
import io.netty.channel.kqueue.KQueue;
import io.netty.channel.kqueue.KQueueIoHandler;
import io.netty.channel.kqueue.KQueueServerSocketChannel;
import io.netty.channel.kqueue.KQueueSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one place where a transport is chosen. Every event loop group, server channel and
 * client channel in thunderlink — raw Netty and gRPC alike — comes from here, so that the
 * daemon runs on exactly one transport and {@code status} can say which.
 *
 * <p>Automatic choice: kqueue on macOS, epoll on Linux (io_uring only when asked for: it
 * is newer and some kernels restrict it), NIO when no native transport loads.
 *
 * <p>Immutable and thread-safe.
 */
public final class TransportFactory {
  private final TransportKind kind;

  private TransportFactory(TransportKind kind) {
    this.kind = kind;
  }

  /** The best transport that loads on this machine. */
  public static TransportFactory auto() {
    if (isAvailable(TransportKind.KQUEUE)) {
      return new TransportFactory(TransportKind.KQUEUE);
    }
    if (isAvailable(TransportKind.EPOLL)) {
      return new TransportFactory(TransportKind.EPOLL);
    }
    return new TransportFactory(TransportKind.NIO);
  }

  /**
   * The transport named by {@code --transport} ({@code auto} or null for {@link #auto()}).
   *
   * @throws IllegalArgumentException if the name is unknown or that transport does not load
   *     here, with the reason it does not
   */
  public static TransportFactory select(String name) {
    if (name == null || name.isBlank() || name.equalsIgnoreCase("auto")) {
      return auto();
    }
    return of(TransportKind.parse(name));
  }

  /** Exactly this transport; fails with the reason when it does not load here. */
  public static TransportFactory of(TransportKind kind) {
    Optional<Throwable> cause = unavailabilityCause(kind);
    if (cause.isPresent()) {
      throw new IllegalArgumentException(
          "transport: " + kind.cliName() + " does not load on this machine ("
              + cause.get().getMessage() + "); use --transport auto");
    }
    return new TransportFactory(kind);
  }

  /** Every transport that loads here, best first. Tests run their suites over each. */
  public static List<TransportKind> availableKinds() {
    List<TransportKind> kinds = new ArrayList<>();
    for (TransportKind k : TransportKind.values()) {
      if (isAvailable(k)) {
        kinds.add(k);
      }
    }
    return kinds;
  }

  public static boolean isAvailable(TransportKind kind) {
    return unavailabilityCause(kind).isEmpty();
  }

  private static Optional<Throwable> unavailabilityCause(TransportKind kind) {
    try {
      switch (kind) {
        case KQUEUE:
          return KQueue.isAvailable() ? Optional.empty() : Optional.of(KQueue.unavailabilityCause());
        case EPOLL:
          return Epoll.isAvailable() ? Optional.empty() : Optional.of(Epoll.unavailabilityCause());
        case IO_URING:
          return IoUring.isAvailable() ? Optional.empty() : Optional.of(IoUring.unavailabilityCause());
        case NIO:
        default:
          return Optional.empty();
      }
    } catch (LinkageError e) {
      return Optional.of(e);
    }
  }

  public TransportKind kind() {
    return kind;
  }

  /** A new event loop group of {@code threads} threads (0: Netty's default) named {@code name}. */
  public EventLoopGroup newGroup(int threads, String name) {
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), ioHandlerFactory());
  }

  private IoHandlerFactory ioHandlerFactory() {
    switch (kind) {
      case KQUEUE:
        return KQueueIoHandler.newFactory();
      case EPOLL:
        return EpollIoHandler.newFactory();
      case IO_URING:
        return IoUringIoHandler.newFactory();
      case NIO:
      default:
        return NioIoHandler.newFactory();
    }
  }

  public Class<? extends ServerChannel> serverChannelClass() {
    switch (kind) {
      case KQUEUE:
        return KQueueServerSocketChannel.class;
      case EPOLL:
        return EpollServerSocketChannel.class;
      case IO_URING:
        return IoUringServerSocketChannel.class;
      case NIO:
      default:
        return NioServerSocketChannel.class;
    }
  }

  public Class<? extends SocketChannel> channelClass() {
    switch (kind) {
      case KQUEUE:
        return KQueueSocketChannel.class;
      case EPOLL:
        return EpollSocketChannel.class;
      case IO_URING:
        return IoUringSocketChannel.class;
      case NIO:
      default:
        return NioSocketChannel.class;
    }
  }

  /**
   * Whether {@link #sentDataAcknowledged} can say anything about {@code ch}: the transport
   * reads the kernel's TCP state (epoll's TCP_INFO); NIO, io_uring and kqueue do not here.
   */
  public static boolean readsTcpInfo(Channel ch) {
    return ch instanceof EpollSocketChannel;
  }

  /**
   * From the kernel's TCP state: data left this end less than {@code withinMillis} ago and the
   * peer acknowledged something after it left, i.e. the peer is taking in what this end sends.
   * A pulled cable acknowledges nothing; a peer that stopped reading acknowledges only window
   * probes, which carry no data, so the last data sent ages past the limit. False where the
   * transport does not read TCP state ({@link #readsTcpInfo}) or the read fails. Event loop.
   */
  public static boolean sentDataAcknowledged(Channel ch, long withinMillis) {
    if (!(ch instanceof EpollSocketChannel e) || !ch.isActive()) {
      return false;
    }
    try {
      EpollTcpInfo info = e.tcpInfo();
      return info.lastAckRecv() <= info.lastDataSent() && info.lastDataSent() < withinMillis;
    } catch (RuntimeException failed) { // the socket closed under us
      return false;
    }
  }

  @Override
  public String toString() {
    return kind.cliName();
  }
}
