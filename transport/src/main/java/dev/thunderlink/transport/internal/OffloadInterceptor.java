package dev.thunderlink.transport.internal;

import io.grpc.Context;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a call off the event loop onto a pool, one call's callbacks in order, unless its method
 * is one that runs inline.
 *
 * <p>Why not grpc-java's {@code ServerBuilder.callExecutor}: with it, the server's executor looks
 * the method up and the chosen executor takes over only afterwards; whatever the pool thread
 * finds queued meanwhile (a unary request, its half-close) it still runs itself. So an "inline"
 * token stream started on the event loop or on a pool thread by chance — a test saw the pool,
 * and a first token paid the hand-off and the pool's wake-up. Here the server runs everything on
 * the event loop (direct executor) and this interceptor, placed next to the service, sends only
 * the blocking calls to the pool: a sequential executor per call keeps gRPC's one-callback-at-a-
 * time rule, and each callback runs in the call's {@link Context} (deadline, cancellation, peer).
 */
public final class OffloadInterceptor implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(OffloadInterceptor.class);
  private final Executor pool;
  private final Predicate<String> inline;

  /** {@code inlineServices} run all their methods inline, {@code inlineMethods} the named ones. */
  public OffloadInterceptor(Executor pool, Set<String> inlineServices, Set<String> inlineMethods) {
    this.pool = pool;
    Set<String> services = Set.copyOf(inlineServices);
    Set<String> methods = Set.copyOf(inlineMethods);
    this.inline = full -> methods.contains(full) || services.contains(io.grpc.MethodDescriptor.extractFullServiceName(full));
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (inline.test(call.getMethodDescriptor().getFullMethodName())) {
      return next.startCall(call, headers);
    }
    Offloaded<Q> listener = new Offloaded<>(call, com.google.common.util.concurrent.MoreExecutors.newSequentialExecutor(pool));
    listener.run(() -> listener.delegate = next.startCall(call, headers), false);
    return listener;
  }

  /**
   * Queues each callback for the call's sequential executor, in the call's {@link Context}; the
   * delegate exists by then. A callback that throws closes the call with UNKNOWN, as grpc-java's
   * own executor does (the client hears it at once instead of at its deadline), and the rest of
   * the call's callbacks are dropped but for onCancel/onComplete, so the service can clean up.
   */
  private static final class Offloaded<Q> extends ForwardingServerCallListener<Q> {
    private final ServerCall<Q, ?> call;
    private final Executor serial;
    private final Context context = Context.current();
    private ServerCall.Listener<Q> delegate; // written and read on the sequential executor only
    private boolean failed; // likewise

    Offloaded(ServerCall<Q, ?> call, Executor serial) {
      this.call = call;
      this.serial = serial;
    }

    @Override
    protected ServerCall.Listener<Q> delegate() {
      return delegate;
    }

    void run(Runnable callback, boolean alsoAfterFailure) {
      serial.execute(context.wrap(() -> {
        if (failed && (delegate == null || !alsoAfterFailure)) {
          return;
        }
        try {
          callback.run();
        } catch (RuntimeException | Error e) {
          failed = true;
          log.warn("call {} failed on the link call pool", call.getMethodDescriptor().getFullMethodName(), e);
          try {
            call.close(Status.UNKNOWN.withDescription("Application error processing RPC").withCause(e), new Metadata());
          } catch (IllegalStateException alreadyClosed) {
            // the service closed it before it threw
          }
        }
      }));
    }

    @Override
    public void onMessage(Q message) {
      run(() -> delegate.onMessage(message), false);
    }

    @Override
    public void onHalfClose() {
      run(() -> delegate.onHalfClose(), false);
    }

    @Override
    public void onReady() {
      run(() -> delegate.onReady(), false);
    }

    @Override
    public void onCancel() {
      run(() -> delegate.onCancel(), true);
    }

    @Override
    public void onComplete() {
      run(() -> delegate.onComplete(), true);
    }
  }
}
