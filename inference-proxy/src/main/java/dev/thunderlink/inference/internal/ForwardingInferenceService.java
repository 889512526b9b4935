package dev.thunderlink.inference.internal;

import dev.thunderlink.proto.inference.ChatRequest;
import dev.thunderlink.proto.inference.EmbedRequest;
import dev.thunderlink.proto.inference.EmbedResponse;
import dev.thunderlink.proto.inference.GenerateChunk;
import dev.thunderlink.proto.inference.GenerateRequest;
import dev.thunderlink.proto.inference.InferenceGrpc;
import dev.thunderlink.proto.inference.ListRequest;
import dev.thunderlink.proto.inference.ListResponse;
import dev.thunderlink.proto.inference.PullProgress;
import dev.thunderlink.proto.inference.PullRequest;
import dev.thunderlink.proto.inference.RunningRequest;
import dev.thunderlink.proto.inference.RunningResponse;
import dev.thunderlink.proto.inference.SchedulerStatusRequest;
import dev.thunderlink.proto.inference.SchedulerStatusResponse;
import dev.thunderlink.proto.inference.ShowRequest;
import dev.thunderlink.proto.inference.ShowResponse;
import dev.thunderlink.proto.inference.VersionRequest;
import dev.thunderlink.proto.inference.VersionResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The inference service on the workstation's local control endpoint, forwarded to the host
 * over the link with flow control on both legs: the next message is asked of the host only
 * when the local caller's transport is ready. Any thread.
 */
public final class ForwardingInferenceService extends InferenceGrpc.InferenceImplBase {
  private final InferenceClient host;

  public ForwardingInferenceService(InferenceClient host) {
    this.host = host;
  }

  /** Passes a stream through: onNext, then request the next when the caller is ready. */
  private static <T> InferenceClient.Sink<T> relay(StreamObserver<T> response,
      AtomicReference<InferenceClient.Cancellable> call) {
    ServerCallStreamObserver<T> out = (ServerCallStreamObserver<T>) response;
    AtomicReference<Runnable> owed = new AtomicReference<>();
    out.setOnReadyHandler(() -> {
      Runnable next = owed.getAndSet(null);
      if (next != null) {
        next.run();
      }
    });
    out.setOnCancelHandler(() -> {
      InferenceClient.Cancellable c = call.get();
      if (c != null) {
        c.cancel("caller cancelled");
      }
    });
    return new InferenceClient.Sink<>() {
      @Override
      public void onMessage(T message, Runnable next) {
        if (out.isCancelled()) {
          return;
        }
        out.onNext(message);
        owed.set(next);
        if (out.isReady()) {
          Runnable n = owed.getAndSet(null);
          if (n != null) {
            n.run();
          }
        }
      }

      @Override
      public void onError(Status s) {
        if (!out.isCancelled()) {
          out.onError(s.asRuntimeException());
        }
      }

      @Override
      public void onComplete() {
        if (!out.isCancelled()) {
          out.onCompleted();
        }
      }
    };
  }

  @Override
  public void chat(ChatRequest request, StreamObserver<GenerateChunk> response) {
    AtomicReference<InferenceClient.Cancellable> call = new AtomicReference<>();
    call.set(host.chat(request, relay(response, call)));
  }

  @Override
  public void generate(GenerateRequest request, StreamObserver<GenerateChunk> response) {
    AtomicReference<InferenceClient.Cancellable> call = new AtomicReference<>();
    call.set(host.generate(request, relay(response, call)));
  }

  @Override
  public void pull(PullRequest request, StreamObserver<PullProgress> response) {
    AtomicReference<InferenceClient.Cancellable> call = new AtomicReference<>();
    call.set(host.pull(request, relay(response, call)));
  }

  private static <T> void unary(com.google.common.util.concurrent.ListenableFuture<T> f, StreamObserver<T> response) {
    ((ServerCallStreamObserver<T>) response).setOnCancelHandler(() -> f.cancel(true));
    com.google.common.util.concurrent.Futures.addCallback(f, new com.google.common.util.concurrent.FutureCallback<T>() {
      @Override
      public void onSuccess(T v) {
        response.onNext(v);
        response.onCompleted();
      }

      @Override
      public void onFailure(Throwable t) {
        response.onError(Status.fromThrowable(t).asRuntimeException());
      }
    }, com.google.common.util.concurrent.MoreExecutors.directExecutor());
  }

  @Override
  public void embed(EmbedRequest request, StreamObserver<EmbedResponse> response) {
    unary(host.futures().embed(request), response);
  }

  @Override
  public void list(ListRequest request, StreamObserver<ListResponse> response) {
    unary(host.futures().list(request), response);
  }

  @Override
  public void running(RunningRequest request, StreamObserver<RunningResponse> response) {
    unary(host.futures().running(request), response);
  }

  @Override
  public void show(ShowRequest request, StreamObserver<ShowResponse> response) {
    unary(host.futures().show(request), response);
  }

  @Override
  public void version(VersionRequest request, StreamObserver<VersionResponse> response) {
    unary(host.futures().version(request), response);
  }

  @Override
  public void schedulerStatus(SchedulerStatusRequest request, StreamObserver<SchedulerStatusResponse> response) {
    unary(host.futures().schedulerStatus(request), response);
  }

  /**
   * Plain HTTP relay, passed through to the host message by message: a message is asked of
   * either side only when the other side's transport is ready for it.
   */
  @Override
  public StreamObserver<dev.thunderlink.proto.inference.ForwardRequest> forward(
      StreamObserver<dev.thunderlink.proto.inference.ForwardResponse> response) {
    ServerCallStreamObserver<dev.thunderlink.proto.inference.ForwardResponse> out =
        (ServerCallStreamObserver<dev.thunderlink.proto.inference.ForwardResponse>) response;
    out.disableAutoRequest();
    java.util.concurrent.atomic.AtomicBoolean owedIn = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicBoolean owedOut = new java.util.concurrent.atomic.AtomicBoolean();
    AtomicReference<io.grpc.stub.ClientCallStreamObserver<dev.thunderlink.proto.inference.ForwardRequest>> up =
        new AtomicReference<>();
    host.forward(new io.grpc.stub.ClientResponseObserver<dev.thunderlink.proto.inference.ForwardRequest,
        dev.thunderlink.proto.inference.ForwardResponse>() {
      @Override
      public void beforeStart(io.grpc.stub.ClientCallStreamObserver<dev.thunderlink.proto.inference.ForwardRequest> call) {
        up.set(call);
        call.disableAutoRequestWithInitial(1);
        call.setOnReadyHandler(() -> {
          if (call.isReady() && owedIn.compareAndSet(true, false)) {
            out.request(1);
          }
        });
      }

      @Override
      public void onNext(dev.thunderlink.proto.inference.ForwardResponse m) {
        if (out.isCancelled()) {
          return;
        }
        out.onNext(m);
        owedOut.set(true);
        if (out.isReady() && owedOut.compareAndSet(true, false)) {
          up.get().request(1);
        }
      }

      @Override
      public void onError(Throwable t) {
        if (!out.isCancelled()) {
          out.onError(Status.fromThrowable(t).asRuntimeException());
        }
      }

      @Override
      public void onCompleted() {
        if (!out.isCancelled()) {
          out.onCompleted();
        }
      }
    });
    out.setOnReadyHandler(() -> {
      if (out.isReady() && owedOut.compareAndSet(true, false)) {
        up.get().request(1);
      }
    });
    out.setOnCancelHandler(() -> up.get().cancel("caller cancelled", null));
    out.request(1);
    return new StreamObserver<>() {
      @Override
      public void onNext(dev.thunderlink.proto.inference.ForwardRequest m) {
        up.get().onNext(m);
        owedIn.set(true);
        if (up.get().isReady() && owedIn.compareAndSet(true, false)) {
          out.request(1);
        }
      }

      @Override
      public void onError(Throwable t) {
        up.get().cancel("caller failed", t);
      }

      @Override
      public void onCompleted() {
        up.get().onCompleted();
      }
    };
  }
}
