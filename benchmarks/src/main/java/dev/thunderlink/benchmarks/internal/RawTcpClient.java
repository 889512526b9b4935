package dev.thunderlink.benchmarks.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.SplittableRandom;

/**
 * The raw TCP baselines ("the limit") of {@code thunderlink bench}: one blocking connection to an
 * {@link EchoServer} (round trips) or a {@link BulkSinkServer} (acknowledged bulk transfers), the
 * same protocol the JMH benchmarks use. Used by one thread at a time.
 */
public final class RawTcpClient implements AutoCloseable {

  private final SocketChannel channel;
  private final ByteBuffer out;
  private final ByteBuffer in;
  private final ByteBuffer header = ByteBuffer.allocate(Long.BYTES);
  private final ByteBuffer ack = ByteBuffer.allocate(1);

  private RawTcpClient(InetSocketAddress address, int bufferBytes) throws IOException {
    channel = SocketChannel.open(address);
    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    out = ByteBuffer.allocateDirect(bufferBytes);
    in = ByteBuffer.allocateDirect(bufferBytes);
    SplittableRandom random = new SplittableRandom(1);
    while (out.remaining() >= Long.BYTES) {
      out.putLong(random.nextLong());
    }
    out.clear();
  }

  /** A client for an echo server, {@code payloadBytes} per round trip. */
  public static RawTcpClient echo(InetSocketAddress address, int payloadBytes) throws IOException {
    return new RawTcpClient(address, payloadBytes);
  }

  /** A client for a bulk sink, writing from a 1 MiB block of random bytes. */
  public static RawTcpClient bulk(InetSocketAddress address) throws IOException {
    return new RawTcpClient(address, 1 << 20);
  }

  /** One echo round trip; returns its time in nanoseconds. */
  public long roundTrip() throws IOException {
    long t0 = System.nanoTime();
    out.clear();
    while (out.hasRemaining()) {
      channel.write(out);
    }
    in.clear();
    while (in.hasRemaining()) {
      if (channel.read(in) < 0) {
        throw new IOException("the echo server closed the connection");
      }
    }
    return System.nanoTime() - t0;
  }

  /** Sends {@code mebibytes} MiB and waits for the sink's acknowledgement. */
  public void transfer(int mebibytes) throws IOException {
    header.clear();
    header.putLong((long) mebibytes << 20).flip();
    while (header.hasRemaining()) {
      channel.write(header);
    }
    for (int i = 0; i < mebibytes; i++) {
      out.clear();
      while (out.hasRemaining()) {
        channel.write(out);
      }
    }
    ack.clear();
    if (channel.read(ack) < 0) {
      throw new IOException("the bulk sink closed the connection");
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
