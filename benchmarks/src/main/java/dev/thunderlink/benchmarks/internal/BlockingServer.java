package dev.thunderlink.benchmarks.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A plain blocking TCP server: an accept thread plus one daemon thread per connection running
 * {@link #serve}. {@link #close()} stops accepting and closes every open connection.
 */
public abstract class BlockingServer implements AutoCloseable {

  private final ServerSocketChannel server;
  private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();

  BlockingServer(String name, InetSocketAddress bind) throws IOException {
    server = ServerSocketChannel.open();
    server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
    server.bind(bind, 128);
    Thread acceptor = new Thread(() -> acceptLoop(name), name + "-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Serves one connection until it ends; runs on that connection's own thread. */
  abstract void serve(SocketChannel channel) throws IOException;

  public InetSocketAddress address() throws IOException {
    return (InetSocketAddress) server.getLocalAddress();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (SocketChannel s : open) {
      s.close();
    }
  }

  private void acceptLoop(String name) {
    while (server.isOpen()) {
      SocketChannel channel;
      try {
        channel = server.accept();
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      } catch (IOException e) {
        return; // closed
      }
      open.add(channel);
      Thread t = new Thread(() -> {
        try (channel) {
          serve(channel);
        } catch (IOException e) {
          // the client went away; nothing to clean up beyond the socket
        } finally {
          open.remove(channel);
        }
      }, name + "-conn");
      t.setDaemon(true);
      t.start();
    }
  }
}
