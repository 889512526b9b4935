package dev.thunderlink.transport;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets a server stop taking calls with a clear status while the calls it has finish: the
 * first step of a graceful shutdown. Install it on every service; then
 * {@link #stopAccepting} refuses new calls with {@code UNAVAILABLE} and the given reason (the
 * listening socket stays open, so a client hears why instead of "connection refused"), cuts
 * subscription calls at once (they never end by themselves), and {@link #drained()} completes
 * when the rest have ended; {@link #cut} closes what is still open with the same status.
 *
 * <p>gRPC's own {@code Server.shutdown()} would send GOAWAY, and {@code shutdownNow()} resets
 * streams: the client sees a transport error with no reason a person can act on.
 *
 * <p>Thread-safe. A call's outbound methods are serialized on the call wrapper, so a cut from
 * the shutdown thread never races the service writing on its own thread; after a cut, the
 * service's further writes are dropped and its listener hears {@code onCancel}, as if the
 * client had left.
 */
public final class ServerCallGate implements ServerInterceptor {
  private final Set<String> subscriptions;
  private final Set<String> alwaysServed;
  private final Set<GatedCall<?, ?>> open = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> drained = new CompletableFuture<>();
  private volatile String refusal;

  /**
   * @param subscriptions full method names of calls that last as long as the client wants
   *     (a watch): cut as soon as the server stops accepting instead of waited for
   */
  public ServerCallGate(Set<String> subscriptions) {
    this(subscriptions, Set.of());
  }

  /**
   * @param alwaysServed names of services whose calls pass untracked and are never refused:
   *     liveness probes (the link's pings), which must keep answering while the server drains,
   *     or the client would take the path for dead and drop the calls that are still finishing
   */
  public ServerCallGate(Set<String> subscriptions, Set<String> alwaysServed) {
    this.subscriptions = Set.copyOf(subscriptions);
    this.alwaysServed = Set.copyOf(alwaysServed);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (alwaysServed.contains(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    String r = refusal;
    if (r != null) {
      call.close(Status.UNAVAILABLE.withDescription(r), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    GatedCall<Q, R> g = new GatedCall<>(call);
    open.add(g);
    r = refusal;
    if (r != null) {
      // stopAccepting ran between the check and the add: refuse, as it would have
      g.cut(r);
      return new ServerCall.Listener<>() {};
    }
    return new GatedListener<>(next.startCall(g, headers), g);
  }

  /** Refuses new calls with {@code UNAVAILABLE: reason} and cuts subscriptions. Idempotent. */
  public void stopAccepting(String reason) {
    if (refusal == null) {
      refusal = reason;
    }
    for (GatedCall<?, ?> c : List.copyOf(open)) {
      if (subscriptions.contains(c.getMethodDescriptor().getFullMethodName())) {
        c.cut(reason);
      }
    }
    checkDrained();
  }

  /** Completes once the server stopped accepting and every call it had has ended. */
  public CompletableFuture<Void> drained() {
    return drained;
  }

  /** Calls in flight. */
  public int openCalls() {
    return open.size();
  }

  /** Closes every call still open with {@code UNAVAILABLE: reason}; one line per call cut. */
  public List<String> cut(String reason) {
    List<String> lines = new ArrayList<>();
    for (GatedCall<?, ?> c : List.copyOf(open)) {
      if (c.cut(reason)) {
        lines.add("call " + c.getMethodDescriptor().getFullMethodName());
      }
    }
    drained.complete(null);
    return lines;
  }

  private void ended(GatedCall<?, ?> c) {
    open.remove(c);
    checkDrained();
  }

  private void checkDrained() {
    if (refusal != null && open.isEmpty()) {
      drained.complete(null);
    }
  }

  /** Serializes outbound calls so that a cut and the service never write at once. */
  private final class GatedCall<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    /** Guarded by {@code this}. */
    private boolean closed;
    private volatile boolean cutByGate;

    GatedCall(ServerCall<Q, R> delegate) {
      super(delegate);
    }

    /** True if this closed the call. */
    boolean cut(String reason) {
      synchronized (this) {
        if (closed) {
          return false;
        }
        closed = true;
        cutByGate = true;
        super.close(Status.UNAVAILABLE.withDescription(reason), new Metadata());
      }
      ended(this);
      return true;
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (!closed) {
        super.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(R message) {
      if (!closed) {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized boolean isReady() {
      return !closed && super.isReady();
    }

    @Override
    public void close(Status status, Metadata trailers) {
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        super.close(status, trailers);
      }
      ended(this);
    }
  }

  /** Ends the call's tracking however it ends; tells a cut call's service that its client left. */
  private final class GatedListener<Q> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
    private final GatedCall<Q, ?> call;

    GatedListener(ServerCall.Listener<Q> delegate, GatedCall<Q, ?> call) {
      super(delegate);
      this.call = call;
    }

    @Override
    public void onComplete() {
      ended(call);
      if (call.cutByGate) {
        super.onCancel(); // the service stops its work (upstream calls, file reads) as for a client that left
      } else {
        super.onComplete();
      }
    }

    @Override
    public void onCancel() {
      ended(call);
      super.onCancel();
    }
  }
}
