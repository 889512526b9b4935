package dev.thunderlink.transport.emulator;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.LockSupport;

/**
 * A real TCP server on 127.0.0.1 for the emulator's tests, with one behaviour per accepted
 * connection. Each connection runs on its own platform thread; {@link #close()} closes the server
 * and every accepted socket.
 */
final class LoopbackPeer implements AutoCloseable {

  /** What to do with one accepted connection; runs on that connection's thread. */
  interface Behaviour {
    void serve(Socket socket) throws IOException;
  }

  private final ServerSocket server;
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();
  private final BlockingQueue<Socket> acceptedQueue = new LinkedBlockingQueue<>();
  private final Thread acceptor;

  LoopbackPeer(Behaviour behaviour) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          s.setTcpNoDelay(true);
          accepted.add(s);
          acceptedQueue.add(s);
          Thread t = new Thread(() -> {
            try (s) {
              behaviour.serve(s);
            } catch (IOException ignored) {
              // the test closed the peer or the emulator reset the connection
            }
          }, "peer-conn");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }, "peer-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Echoes every byte back until EOF, then closes. */
  static LoopbackPeer echo() throws IOException {
    return new LoopbackPeer(s -> {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        out.flush();
      }
    });
  }

  InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /** The next connection accepted by this peer, or null if none within {@code timeout}. */
  Socket nextAccepted(Duration timeout) throws InterruptedException {
    return acceptedQueue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : accepted) {
      s.close();
    }
  }

  static Socket connect(InetSocketAddress address) throws IOException {
    Socket s = new Socket();
    s.setTcpNoDelay(true);
    s.connect(address, 5_000);
    return s;
  }

  /** Waits until {@code condition} holds, failing after {@code timeout}. */
  static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      LockSupport.parkNanos(1_000_000);
    }
  }

  /** Reads exactly {@code n} bytes or fails on EOF. */
  static byte[] readFully(InputStream in, int n) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length != n) {
      throw new IOException("EOF after " + b.length + " of " + n + " bytes");
    }
    return b;
  }
}
