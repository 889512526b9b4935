package dev.thunderlink.transport.emulator;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.kqueue.KQueue;
import io.netty.channel.kqueue.KQueueIoHandler;
import io.netty.channel.kqueue.KQueueServerSocketChannel;
import io.netty.channel.kqueue.KQueueSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The Netty transport the emulator runs on. A native one is preferred because its timers have
 * sub-millisecond resolution (epoll uses timerfd, kqueue a nanosecond timeout) while NIO rounds
 * select timeouts up to whole milliseconds, which would blur a 0.05 ms profile.
 *
 * <p>Kept private to the emulator so it does not depend on the link's own transport selection.
 */
record EmulatorTransport(
    String name,
    IoHandlerFactory ioHandlerFactory,
    Class<? extends ServerChannel> serverChannelClass,
    Class<? extends SocketChannel> socketChannelClass) {

  static EmulatorTransport best() {
    if (Epoll.isAvailable()) {
      return new EmulatorTransport(
          "epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
          EpollSocketChannel.class);
    }
    if (KQueue.isAvailable()) {
      return new EmulatorTransport(
          "kqueue", KQueueIoHandler.newFactory(), KQueueServerSocketChannel.class,
          KQueueSocketChannel.class);
    }
    return new EmulatorTransport(
        "nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
  }
}
