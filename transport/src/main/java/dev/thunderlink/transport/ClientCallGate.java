package dev.thunderlink.transport;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client-side twin of {@link ServerCallGate}, for a daemon whose local clients reach the
 * peer through it (the workstation's HTTP fronts): {@link #stopAccepting} fails new calls at
 * once with {@code UNAVAILABLE: reason}, {@link #drained()} completes when the calls in flight
 * have ended, and {@link #cut} ends the rest. A call ended by the gate closes with
 * {@code UNAVAILABLE: reason} (not {@code CANCELLED}), so whoever relays it to a person (an
 * error line in an NDJSON stream, an SSE error event) says why.
 *
 * <p>Thread-safe: a cut (from the shutdown thread) and the caller's writes are serialized on
 * the call wrapper; only {@code cancel}, which gRPC allows from any thread, reaches the call.
 */
public final class ClientCallGate implements ClientInterceptor {
  private final Set<GatedCall<?, ?>> open = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> drained = new CompletableFuture<>();
  private volatile String refusal;

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    return new GatedCall<>(next.newCall(method, options), method.getFullMethodName());
  }

  /** New calls fail with {@code UNAVAILABLE: reason}; calls in flight go on. Idempotent. */
  public void stopAccepting(String reason) {
    if (refusal == null) {
      refusal = reason;
    }
    checkDrained();
  }

  /** Completes once the gate stopped accepting and every call has ended. */
  public CompletableFuture<Void> drained() {
    return drained;
  }

  public int openCalls() {
    return open.size();
  }

  /**
   * Ends every call in flight with {@code UNAVAILABLE: reason}; one line per call. The calls'
   * listeners hear it asynchronously: {@link #drained()} completes once they all have.
   */
  public List<String> cut(String reason) {
    stopAccepting(reason);
    List<String> lines = new ArrayList<>();
    for (GatedCall<?, ?> c : List.copyOf(open)) {
      lines.add("call " + c.name);
      c.cut(reason);
    }
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

  private final class GatedCall<Q, R> extends ForwardingClientCall.SimpleForwardingClientCall<Q, R> {
    final String name;
    private volatile String cutReason;
    /** The delegate was started (not refused at once). */
    private volatile boolean started;

    GatedCall(ClientCall<Q, R> delegate, String name) {
      super(delegate);
      this.name = name;
    }

    @Override
    public void start(Listener<R> listener, Metadata headers) {
      String refused = refusal;
      if (refused != null) {
        // Never reaches the peer. Told asynchronously, as gRPC tells a call that cannot start.
        synchronized (this) {
          cutReason = refused;
        }
        CompletableFuture.runAsync(() -> listener.onClose(Status.UNAVAILABLE.withDescription(refused), new Metadata()));
        return;
      }
      open.add(this);
      super.start(
          new ForwardingClientCallListener.SimpleForwardingClientCallListener<R>(listener) {
            @Override
            public void onClose(Status status, Metadata trailers) {
              String r = cutReason;
              try {
                super.onClose(r != null ? Status.UNAVAILABLE.withDescription(r) : status, trailers);
              } finally {
                ended(GatedCall.this); // after the listener relayed the reason (drained means "told")
              }
            }
          },
          headers);
      started = true;
    }

    synchronized void cut(String reason) {
      if (cutReason == null) {
        cutReason = reason;
        super.cancel(reason, null);
      }
    }

    // After a cut (or a refusal) the caller may still be writing: dropped, as after a peer's close.

    @Override
    public synchronized void sendMessage(Q message) {
      if (cutReason == null) {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized void halfClose() {
      if (cutReason == null) {
        super.halfClose();
      }
    }

    @Override
    public void request(int n) {
      if (started) {
        super.request(n);
      }
    }

    @Override
    public boolean isReady() {
      return started && cutReason == null && super.isReady();
    }

    @Override
    public void cancel(String message, Throwable cause) {
      if (started) {
        super.cancel(message, cause);
      }
    }
  }
}
