package dev.thunderlink.transport.internal;

import com.google.common.util.concurrent.MoreExecutors;
import dev.thunderlink.transport.internal.ControlFrames.CallEnd;
import dev.thunderlink.transport.internal.ControlFrames.CallHead;
import dev.thunderlink.transport.internal.ControlFrames.Frame;
import dev.thunderlink.transport.internal.ControlFrames.FrameException;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC {@link io.grpc.Channel} to the daemon's control socket ({@link ControlFrames}): the
 * generated stubs work over it unchanged, with deadlines, cancellation (of the call, of its
 * {@link Context}, or by {@link #shutdownNow()}), server streaming with flow control, and the
 * server's status and trailers; and a command that uses it loads neither Netty nor gRPC's
 * transport. Each call opens its own connection, and sends {@code extraHeaders} (the token)
 * with its own.
 *
 * <p>Threads: each call has a reader thread that reads the server's frames and waits for the
 * listener's demand; the listener's callbacks run serialized on the call's executor (from its
 * {@link CallOptions}, or the reader thread). Sends write from the caller's thread, under the
 * call's write lock.
 */
public final class ControlSocketChannel extends ManagedChannel {
  private final Path socket;
  private final Metadata extraHeaders;
  /** The calls that have not ended; guarded by itself for the termination wait. */
  private final Set<SocketCall<?, ?>> calls = ConcurrentHashMap.newKeySet();
  private volatile boolean shutdown;
  private ScheduledExecutorService timer; // guarded by this; made by the first call with a deadline

  public ControlSocketChannel(Path socket, Metadata extraHeaders) {
    this.socket = socket;
    this.extraHeaders = extraHeaders;
  }

  @Override
  public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
    return new SocketCall<>(method, options);
  }

  @Override
  public String authority() {
    return "localhost";
  }

  @Override
  public ManagedChannel shutdown() {
    shutdown = true;
    synchronized (this) {
      if (timer != null) {
        timer.shutdown();
      }
      notifyAll();
    }
    return this;
  }

  /** Also cancels the calls in flight: a daemon's copy stops when its command is stopped. */
  @Override
  public ManagedChannel shutdownNow() {
    shutdown();
    for (SocketCall<?, ?> c : calls) {
      c.end(Status.UNAVAILABLE.withDescription("the control channel was shut down"), new Metadata());
    }
    return this;
  }

  @Override
  public boolean isShutdown() {
    return shutdown;
  }

  @Override
  public boolean isTerminated() {
    return shutdown && calls.isEmpty();
  }

  @Override
  public synchronized boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long end = System.nanoTime() + unit.toNanos(timeout);
    while (!isTerminated()) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  private synchronized ScheduledExecutorService timer() {
    if (timer == null) {
      ScheduledThreadPoolExecutor t =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread th = new Thread(r, "thunderlink-control-deadline");
                th.setDaemon(true);
                return th;
              });
      t.setRemoveOnCancelPolicy(true);
      timer = t;
    }
    return timer;
  }

  private void forget(SocketCall<?, ?> c) {
    calls.remove(c);
    synchronized (this) {
      notifyAll();
    }
  }

  /** One call on its own connection. */
  private final class SocketCall<Q, R> extends ClientCall<Q, R> implements Context.CancellationListener {
    private final MethodDescriptor<Q, R> method;
    private final CallOptions options;
    private final Executor callbacks;
    private final Object writeLock = new Object();
    private final Context context = Context.current();
    private Listener<R> listener; // set by start, before any other use
    private volatile SocketChannel ch; // set once, by start, under this
    private volatile boolean ended;
    private boolean closeDelivered; // only touched by the serialized callbacks
    private ScheduledFuture<?> deadline; // guarded by this
    private int demand; // guarded by this

    SocketCall(MethodDescriptor<Q, R> method, CallOptions options) {
      this.method = method;
      this.options = options;
      this.callbacks = MoreExecutors.newSequentialExecutor(options.getExecutor() != null ? options.getExecutor() : MoreExecutors.directExecutor());
    }

    @Override
    public void start(Listener<R> listener, Metadata headers) {
      this.listener = listener;
      calls.add(this);
      if (shutdown) {
        end(Status.UNAVAILABLE.withDescription("the control channel was shut down"), new Metadata());
        return;
      }
      Deadline d = earlier(options.getDeadline(), context.getDeadline());
      if (d != null && d.isExpired()) {
        end(Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded before the call started"), new Metadata());
        return;
      }
      context.addListener(this, Runnable::run);
      if (d != null) {
        long nanos = d.timeRemaining(TimeUnit.NANOSECONDS);
        synchronized (this) {
          deadline = timer().schedule(
              () -> end(Status.DEADLINE_EXCEEDED.withDescription(
                  String.format("deadline exceeded after %.3fs", nanos / 1e9)), new Metadata()),
              nanos, TimeUnit.NANOSECONDS);
        }
      }
      Metadata all = new Metadata();
      all.merge(headers);
      all.merge(extraHeaders);
      try {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        synchronized (this) {
          if (ended) { // cancelled or past its deadline already
            c.close();
            return;
          }
          ch = c;
        }
        c.connect(UnixDomainSocketAddress.of(socket));
        write(ControlFrames.HEADERS, new CallHead(method.getFullMethodName(), d == null ? CallHead.NO_TIMEOUT : d.timeRemaining(TimeUnit.NANOSECONDS), all).encode());
      } catch (IOException e) {
        end(Status.UNAVAILABLE.withDescription("cannot reach the thunderlink daemon at " + socket + ": " + e.getMessage()), new Metadata());
        return;
      }
      Thread reader = new Thread(this::read, "thunderlink-control-call");
      reader.setDaemon(true);
      reader.start();
    }

    private static Deadline earlier(Deadline a, Deadline b) {
      return a == null ? b : b == null ? a : a.minimum(b);
    }

    @Override
    public void cancelled(Context c) {
      end(Contexts.statusFromCancelled(c), new Metadata());
    }

    @Override
    public void request(int n) {
      synchronized (this) {
        demand += n;
        notifyAll();
      }
    }

    @Override
    public void cancel(String message, Throwable cause) {
      Status s = Status.CANCELLED;
      end((message != null ? s.withDescription(message) : s.withDescription("call cancelled")).withCause(cause), new Metadata());
    }

    @Override
    public void halfClose() {
      send(ControlFrames.HALF_CLOSE, new byte[0]);
    }

    @Override
    public void sendMessage(Q message) {
      byte[] payload;
      try (InputStream in = method.streamRequest(message)) {
        payload = in.readAllBytes();
      } catch (IOException e) {
        end(Status.INTERNAL.withDescription("cannot encode the request: " + e.getMessage()), new Metadata());
        return;
      }
      if (payload.length > ControlFrames.MAX_PAYLOAD) {
        end(Status.RESOURCE_EXHAUSTED.withDescription(
            "request too large: " + payload.length + " bytes (expected: <= " + ControlFrames.MAX_PAYLOAD + ")"), new Metadata());
        return;
      }
      send(ControlFrames.MESSAGE, payload);
    }

    /** A write failure is left to the reader, which then finds the connection closed. */
    private void send(byte type, byte[] payload) {
      if (ended) {
        return;
      }
      try {
        write(type, payload);
      } catch (IOException e) {
        // the reader reports it: the daemon's status when it sent one, else the closed connection
      }
    }

    private void write(byte type, byte[] payload) throws IOException {
      synchronized (writeLock) {
        ControlFrames.write(ch, type, payload);
      }
    }

    /** The reader thread: the server's frames, each message once the listener asked for one. */
    private void read() {
      try {
        Frame f;
        while ((f = ControlFrames.read(ch)) != null) {
          switch (f.type()) {
            case ControlFrames.HEADERS -> {
              Metadata h = ControlFrames.decodeMetadata(f.payload());
              deliver(() -> listener.onHeaders(h));
            }
            case ControlFrames.MESSAGE -> {
              if (!awaitDemand()) {
                return;
              }
              R m = method.parseResponse(new ByteArrayInputStream(f.payload()));
              deliver(() -> listener.onMessage(m));
            }
            case ControlFrames.TRAILERS -> {
              CallEnd e = CallEnd.decode(f.payload());
              end(e.status(), e.trailers());
              return;
            }
            default -> throw new FrameException(Status.Code.INTERNAL, "malformed control frame: frame type " + f.type() + " from the daemon");
          }
        }
        end(Status.UNAVAILABLE.withDescription("the thunderlink daemon closed the control connection without an answer"), new Metadata());
      } catch (FrameException e) {
        end(e.status(), new Metadata());
      } catch (IOException | RuntimeException e) {
        end(Status.UNAVAILABLE.withDescription("the control connection to the thunderlink daemon failed: " + e).withCause(e), new Metadata());
      }
    }

    private synchronized boolean awaitDemand() throws IOException {
      try {
        while (demand == 0 && !ended) {
          wait();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
      if (ended) {
        return false;
      }
      demand--;
      return true;
    }

    /** Runs a callback in order; none after onClose (what was read before the end still arrives). */
    private void deliver(Runnable r) {
      callbacks.execute(() -> {
        if (!closeDelivered) {
          r.run();
        }
      });
    }

    /**
     * Ends the call once: closes the connection (which cancels the daemon's side when it had not
     * finished) and tells the listener.
     */
    void end(Status status, Metadata trailers) {
      SocketChannel c;
      synchronized (this) {
        if (ended) {
          return;
        }
        ended = true;
        notifyAll();
        if (deadline != null) {
          deadline.cancel(false);
        }
        c = ch;
      }
      context.removeListener(this);
      if (c != null) {
        try {
          c.close();
        } catch (IOException e) {
          // closing
        }
      }
      callbacks.execute(() -> {
        closeDelivered = true;
        listener.onClose(status, trailers);
      });
      forget(this);
    }
  }
}
