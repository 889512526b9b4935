package dev.thunderlink.transport.internal;

import dev.thunderlink.transport.internal.ControlFrames.CallEnd;
import dev.thunderlink.transport.internal.ControlFrames.CallHead;
import dev.thunderlink.transport.internal.ControlFrames.Frame;
import dev.thunderlink.transport.internal.ControlFrames.FrameException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's end of the control socket ({@link ControlFrames}): a Unix domain socket, owner-only,
 * whose calls it hands to {@code upstream}, a channel to the daemon's own services (in-process,
 * behind the same token check as the TCP endpoint). Each connection is one call; the upstream
 * call carries its method, metadata and deadline, and is cancelled when the client goes away.
 *
 * <p>Threads: one accepts; each connection has one (from a cached pool) reading the client's
 * frames; the upstream call's callbacks write the server's frames, under the connection's lock.
 */
public final class ControlSocketServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlSocketServer.class);
  private static final MethodDescriptor.Marshaller<byte[]> BYTES = dev.thunderlink.transport.ByteArrayMarshaller.INSTANCE;

  private final Path path;
  private final Channel upstream;
  private final ServerSocketChannel server;
  private final Object fileKey;
  private final ExecutorService connections;
  private final Map<String, MethodDescriptor<byte[], byte[]>> methods = new ConcurrentHashMap<>();

  private ControlSocketServer(Path path, Channel upstream, ServerSocketChannel server, Object fileKey) {
    this.path = path;
    this.upstream = upstream;
    this.server = server;
    this.fileKey = fileKey;
    AtomicInteger n = new AtomicInteger();
    this.connections =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "thunderlink-control-socket-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Listens on {@code path}, readable and writable by the owner only: bound under a private name,
   * restricted, then renamed into place, so no client ever finds it open to others.
   *
   * @throws IOException when the socket cannot be made (a path too long for a Unix socket, say)
   */
  public static ControlSocketServer open(Path path, Channel upstream) throws IOException {
    Path tmp = path.resolveSibling(path.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
    Files.deleteIfExists(tmp);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(tmp));
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // no POSIX permissions (Windows): the token alone guards it, as on TCP
      }
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Object key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
      ControlSocketServer s = new ControlSocketServer(path, upstream, server, key);
      Thread accept = new Thread(s::acceptLoop, "thunderlink-control-socket-accept");
      accept.setDaemon(true);
      accept.start();
      return s;
    } catch (IOException | RuntimeException e) {
      server.close();
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  public Path path() {
    return path;
  }

  private void acceptLoop() {
    while (true) {
      SocketChannel ch;
      try {
        ch = server.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        log.warn("control socket {}: accept failed: {}", path, e.toString());
        if (!server.isOpen()) {
          return;
        }
        continue;
      }
      try {
        connections.execute(new Call(ch));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        closeQuietly(ch); // closing
      }
    }
  }

  /** Stops accepting, ends the open calls' connections and removes the socket file (when it is still this one). */
  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      log.debug("closing the control socket", e);
    }
    connections.shutdownNow();
    try {
      if (Objects.equals(fileKey, Files.readAttributes(path, BasicFileAttributes.class).fileKey())) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      // gone already, or replaced by another daemon's: not ours to remove
    }
    try {
      connections.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private MethodDescriptor<byte[], byte[]> method(String name) {
    return methods.computeIfAbsent(
        name,
        n -> MethodDescriptor.newBuilder(BYTES, BYTES)
            .setType(MethodDescriptor.MethodType.UNKNOWN)
            .setFullMethodName(n)
            .build());
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      // closing
    }
  }

  /** One connection: reads the client's frames and relays them to an upstream call, whose answers it writes back. */
  private final class Call implements Runnable {
    private final SocketChannel ch;
    private final Object writeLock = new Object();
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile ClientCall<byte[], byte[]> call;

    Call(SocketChannel ch) {
      this.ch = ch;
    }

    @Override
    public void run() {
      try (ch) {
        relay();
      } catch (IOException e) {
        log.debug("closing a control connection", e);
      }
    }

    /** Until the client closes; a broken frame is answered, not just dropped (the catch runs before the close). */
    private void relay() {
      try {
        Frame f = ControlFrames.read(ch);
        if (f == null) {
          return;
        }
        if (f.type() != ControlFrames.HEADERS) {
          throw new FrameException(Status.Code.INTERNAL, "malformed control frame: a call must start with its headers, not frame type " + f.type());
        }
        start(CallHead.decode(f.payload()));
        while ((f = ControlFrames.read(ch)) != null) {
          switch (f.type()) {
            case ControlFrames.MESSAGE -> call.sendMessage(f.payload());
            case ControlFrames.HALF_CLOSE -> call.halfClose();
            default -> throw new FrameException(Status.Code.INTERNAL, "malformed control frame: frame type " + f.type() + " from a client");
          }
        }
        cancel("the client closed the control connection");
      } catch (FrameException e) {
        log.warn("control socket {}: {}", path, e.getMessage());
        end(new CallEnd(e.status(), new Metadata()));
        cancel(e.getMessage());
        drain();
      } catch (IOException e) {
        cancel("the control connection failed: " + e); // the client is gone: nobody to answer
      } catch (RuntimeException e) {
        log.warn("control socket {}: a call failed", path, e);
        end(new CallEnd(Status.INTERNAL.withDescription("the daemon's control socket failed: " + e), new Metadata()));
        cancel("the control socket failed: " + e);
      }
    }

    private void start(CallHead head) {
      CallOptions options = CallOptions.DEFAULT;
      if (head.timeoutNanos() != CallHead.NO_TIMEOUT) {
        options = options.withDeadlineAfter(head.timeoutNanos(), TimeUnit.NANOSECONDS);
      }
      call = upstream.newCall(method(head.method()), options);
      call.start(
          new ClientCall.Listener<>() {
            @Override
            public void onHeaders(Metadata headers) {
              send(ControlFrames.HEADERS, ControlFrames.encodeMetadata(headers));
            }

            @Override
            public void onMessage(byte[] message) {
              if (send(ControlFrames.MESSAGE, message)) {
                call.request(1); // one at a time: the socket's buffer is the window
              }
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
              end(new CallEnd(status, trailers));
            }
          },
          head.headers());
      call.request(1);
    }

    /** Writes a frame; false (and the call cancelled) when the client is gone. */
    private boolean send(byte type, byte[] payload) {
      synchronized (writeLock) {
        if (ended.get()) {
          return false;
        }
        try {
          ControlFrames.write(ch, type, payload);
          return true;
        } catch (IOException e) {
          cancel("the client went away: " + e.getMessage());
          return false;
        }
      }
    }

    /** The last frame; then the client closes the connection. */
    private void end(CallEnd end) {
      synchronized (writeLock) {
        if (!ended.compareAndSet(false, true)) {
          return;
        }
        try {
          ControlFrames.write(ch, ControlFrames.TRAILERS, end.encode());
          ch.shutdownOutput();
        } catch (IOException e) {
          // the client is gone: nobody to tell
        }
      }
    }

    /**
     * Reads what the client still sends (up to a frame's worth) until it closes: closing with
     * unread bytes would reset the connection, and the client lose the status just sent.
     */
    private void drain() {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64 * 1024);
      long left = ControlFrames.MAX_PAYLOAD;
      try {
        int n;
        while (left > 0 && (n = ch.read(b.clear())) >= 0) {
          left -= n;
        }
      } catch (IOException e) {
        // gone
      }
    }

    private void cancel(String why) {
      ClientCall<byte[], byte[]> c = call;
      if (c != null) {
        c.cancel(why, null); // a no-op once the call has ended
      }
    }
  }
}
