package dev.thunderlink.transport.internal;

import io.grpc.Context;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Predicate;

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
    Context context = Context.current();
    Executor serial = com.google.common.util.concurrent.MoreExecutors.newSequentialExecutor(pool);
    Offloaded<Q> listener = new Offloaded<>(serial, context);
    Runnable start = () -> listener.delegate = next.startCall(call, headers);
    serial.execute(context.wrap(start));
    return listener;
  }

  /** Queues each callback for the call's sequential executor; the delegate exists by then. */
  private static final class Offloaded<Q> extends ForwardingServerCallListener<Q> {
    private final Executor serial;
    private final Context context;
    private ServerCall.Listener<Q> delegate; // written and read on the sequential executor only

    Offloaded(Executor serial, Context context) {
      this.serial = serial;
      this.context = context;
    }

    @Override
    protected ServerCall.Listener<Q> delegate() {
      return delegate;
    }

    private void run(Runnable callback) {
      serial.execute(context.wrap(callback));
    }

    @Override
    public void onMessage(Q message) {
      run(() -> delegate.onMessage(message));
    }

    @Override
    public void onHalfClose() {
      run(() -> delegate.onHalfClose());
    }

    @Override
    public void onCancel() {
      run(() -> delegate.onCancel());
    }

    @Override
    public void onComplete() {
      run(() -> delegate.onComplete());
    }

    @Override
    public void onReady() {
      run(() -> delegate.onReady());
    }
  }
}
