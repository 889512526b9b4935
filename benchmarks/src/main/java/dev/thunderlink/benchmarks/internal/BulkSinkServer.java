package dev.thunderlink.benchmarks.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The far end of the raw TCP bulk benchmark. Protocol, repeated per transfer on one connection:
 * the client sends an 8-byte big-endian length and that many bytes; the server drains them into a
 * direct buffer (no copy to the heap) and answers with one byte, so the client times the whole
 * transfer including the last byte's arrival.
 */
public final class BulkSinkServer extends BlockingServer {

  public BulkSinkServer(InetSocketAddress bind) throws IOException {
    super("bulk", bind);
  }

  @Override
  void serve(SocketChannel channel) throws IOException {
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    ByteBuffer header = ByteBuffer.allocate(Long.BYTES);
    ByteBuffer ack = ByteBuffer.allocate(1);
    while (true) {
      header.clear();
      while (header.hasRemaining()) {
        if (channel.read(header) < 0) {
          return;
        }
      }
      long left = header.flip().getLong();
      while (left > 0) {
        buf.clear();
        buf.limit((int) Math.min(buf.capacity(), left));
        int n = channel.read(buf);
        if (n < 0) {
          return;
        }
        left -= n;
      }
      ack.clear();
      ack.put((byte) 1).flip();
      channel.write(ack);
    }
  }
}
