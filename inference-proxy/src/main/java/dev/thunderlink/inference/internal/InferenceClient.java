package dev.thunderlink.inference.internal;

import dev.thunderlink.proto.inference.ChatRequest;
import dev.thunderlink.proto.inference.GenerateChunk;
import dev.thunderlink.proto.inference.GenerateRequest;
import dev.thunderlink.proto.inference.InferenceGrpc;
import dev.thunderlink.proto.inference.PullProgress;
import dev.thunderlink.proto.inference.PullRequest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workstation's side of the inference service: streams over an {@link io.grpc.Channel}
 * (the link) with manual flow control — the next message is requested only when the HTTP
 * client has taken the previous one. A call that fails with UNAVAILABLE before its first
 * message (the link switched paths) is retried once.
 *
 * <p>Thread-safe; {@link Sink} callbacks come from the channel's transport thread (a direct
 * executor), serially per call, and must not block.
 */
public final class InferenceClient {
  private static final Logger log = LoggerFactory.getLogger(InferenceClient.class);

  /** Receives one stream. {@code next} asks for the next message; call it once per message. */
  public interface Sink<T> {
    void onMessage(T message, Runnable next);

    void onError(Status status);

    void onComplete();
  }

  /** A running call. */
  public interface Cancellable {
    void cancel(String why);
  }

  private static final CallOptions CALLBACKS_INLINE =
      CallOptions.DEFAULT.withExecutor(com.google.common.util.concurrent.MoreExecutors.directExecutor());

  private final Channel channel;

  public InferenceClient(Channel channel) {
    this.channel = channel;
  }

  public InferenceGrpc.InferenceFutureStub futures() {
    return InferenceGrpc.newFutureStub(channel);
  }

  public InferenceGrpc.InferenceBlockingStub blocking() {
    return InferenceGrpc.newBlockingStub(channel);
  }

  public Cancellable chat(ChatRequest request, Sink<GenerateChunk> sink) {
    return stream(InferenceGrpc.getChatMethod(), request, sink);
  }

  public Cancellable generate(GenerateRequest request, Sink<GenerateChunk> sink) {
    return stream(InferenceGrpc.getGenerateMethod(), request, sink);
  }

  public Cancellable pull(PullRequest request, Sink<PullProgress> sink) {
    return stream(InferenceGrpc.getPullMethod(), request, sink);
  }

  /**
   * Opens a {@code Forward} call (plain HTTP relay). Not retried: a body already streamed
   * cannot be replayed. The observer's {@code beforeStart} sets up flow control.
   */
  public io.grpc.stub.StreamObserver<dev.thunderlink.proto.inference.ForwardRequest> forward(
      ClientResponseObserver<dev.thunderlink.proto.inference.ForwardRequest,
          dev.thunderlink.proto.inference.ForwardResponse> observer) {
    return ClientCalls.asyncBidiStreamingCall(
        channel.newCall(InferenceGrpc.getForwardMethod(), CallOptions.DEFAULT), observer);
  }

  private <Q, R> Cancellable stream(MethodDescriptor<Q, R> method, Q request, Sink<R> sink) {
    Hops.mark(Hops.PROTO_BUILT);
    Attempt<Q, R> a = new Attempt<>(method, request, sink, 1);
    a.start();
    return a::cancel;
  }

  private final class Attempt<Q, R> implements ClientResponseObserver<Q, R> {
    private final MethodDescriptor<Q, R> method;
    private final Q request;
    private final Sink<R> sink;
    private final int retriesLeft;
    private volatile ClientCallStreamObserver<Q> call;
    private volatile boolean received;
    private volatile boolean cancelled;
    private volatile Attempt<Q, R> retry;

    Attempt(MethodDescriptor<Q, R> method, Q request, Sink<R> sink, int retriesLeft) {
      this.method = method;
      this.request = request;
      this.sink = sink;
      this.retriesLeft = retriesLeft;
    }

    void start() {
      // Token chunks are handed to the sink on the transport thread: the sinks only encode and
      // hand bytes to the front's event loop, and skipping the executor saves a thread hop per
      // chunk (about 0.3 ms before the first token on a busy machine).
      ClientCalls.asyncServerStreamingCall(channel.newCall(method, CALLBACKS_INLINE), request, this);
      Hops.mark(Hops.CALL_ISSUED);
    }

    void cancel(String why) {
      cancelled = true;
      Attempt<Q, R> r = retry;
      if (r != null) {
        r.cancel(why);
      }
      ClientCallStreamObserver<Q> c = call;
      if (c != null) {
        c.cancel(why, null);
      }
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<Q> requestStream) {
      call = requestStream;
      requestStream.disableAutoRequestWithInitial(1);
    }

    @Override
    public void onNext(R value) {
      Hops.mark(Hops.WS_RECEIVES);
      received = true;
      sink.onMessage(value, () -> call.request(1));
    }

    @Override
    public void onError(Throwable t) {
      Status s = Status.fromThrowable(t);
      if (cancelled) {
        return;
      }
      if (s.getCode() == Status.Code.UNAVAILABLE && !received && retriesLeft > 0
          && s.getCause() != null) {
        // Transport failure (a path died): try again once.
        log.info("inference call failed on the link ({}); retrying", s);
        Attempt<Q, R> r = new Attempt<>(method, request, sink, retriesLeft - 1);
        retry = r;
        r.start();
        return;
      }
      sink.onError(s);
    }

    @Override
    public void onCompleted() {
      if (!cancelled) {
        sink.onComplete();
      }
    }
  }
}
