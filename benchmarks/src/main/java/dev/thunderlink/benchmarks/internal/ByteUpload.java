package dev.thunderlink.benchmarks.internal;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The client of {@link ByteSinkService}: streams {@code bytes} in chunks with gRPC's flow control
 * ({@code isReady}/{@code onReady}, so nothing queues without bound) and returns once the host has
 * counted them all. {@link #send} blocks the calling thread; the chunks are written from gRPC's
 * executor thread in the {@code onReady} handler.
 */
public final class ByteUpload {

  private final Channel channel;
  private final byte[] chunk;

  public ByteUpload(Channel channel, byte[] chunk) {
    if (chunk.length == 0) {
      throw new IllegalArgumentException("chunk: 0 bytes (expected: >= 1)");
    }
    this.channel = channel;
    this.chunk = chunk;
  }

  /** Sends {@code bytes} (rounded up to whole chunks); returns the count the host confirmed. */
  public long send(long bytes, long timeoutMillis) throws IOException, InterruptedException {
    long chunks = (bytes + chunk.length - 1) / chunk.length;
    CompletableFuture<Long> done = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = channel.newCall(ByteSinkService.UPLOAD,
        CallOptions.DEFAULT.withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS));
    ClientCalls.asyncClientStreamingCall(call, new ClientResponseObserver<byte[], byte[]>() {
      private long sent;
      private boolean halfClosed;

      @Override
      public void beforeStart(ClientCallStreamObserver<byte[]> requests) {
        requests.setOnReadyHandler(() -> {
          while (requests.isReady() && sent < chunks) {
            requests.onNext(chunk);
            sent++;
          }
          if (sent == chunks && !halfClosed) {
            halfClosed = true;
            requests.onCompleted();
          }
        });
      }

      @Override
      public void onNext(byte[] answer) {
        done.complete(ByteSinkService.total(answer));
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.completeExceptionally(Status.INTERNAL.withDescription("no count from the host").asRuntimeException());
      }
    });
    try {
      long counted = done.get(timeoutMillis + 1000, TimeUnit.MILLISECONDS);
      if (counted != chunks * chunk.length) {
        throw new IOException("the host counted " + counted + " bytes of " + chunks * chunk.length);
      }
      return counted;
    } catch (ExecutionException e) {
      throw new IOException("gRPC upload failed: " + Status.fromThrowable(e.getCause()), e.getCause());
    } catch (TimeoutException e) {
      call.cancel("timed out", null);
      throw new IOException("gRPC upload of " + bytes + " bytes took over " + timeoutMillis + " ms");
    }
  }
}
