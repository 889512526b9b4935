package dev.thunderlink.benchmarks.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A TCP server that writes back every byte it reads. One platform thread per connection, blocking
 * I/O and {@code TCP_NODELAY}: the simplest thing with the lowest latency, so the round trip
 * measures the path, not the server.
 */
public final class EchoServer extends BlockingServer {

  public EchoServer(InetSocketAddress bind) throws IOException {
    super("echo", bind);
  }

  @Override
  void serve(SocketChannel channel) throws IOException {
    ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
    while (channel.read(buf) >= 0) {
      buf.flip();
      while (buf.hasRemaining()) {
        channel.write(buf);
      }
      buf.clear();
    }
  }
}
