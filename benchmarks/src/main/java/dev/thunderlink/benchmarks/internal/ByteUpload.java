package dev.thunderlink.benchmarks.internal;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongFunction;
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
    return send(chunks, i -> chunk, chunks * chunk.length, timeoutMillis);
  }

  /**
   * Sends {@code messages} in order, one gRPC message each (say, one per file of a tree); returns
   * the count the host confirmed.
   */
  public static long send(Channel channel, List<byte[]> messages, long timeoutMillis) throws IOException, InterruptedException {
    long total = 0;
    for (byte[] m : messages) {
      total += m.length;
    }
    return new ByteUpload(channel, new byte[1]).send(messages.size(), i -> messages.get((int) i), total, timeoutMillis);
  }

  private long send(long count, LongFunction<byte[]> message, long expected, long timeoutMillis)
      throws IOException, InterruptedException {
    long bytes = expected;
    long chunks = count;
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
            requests.onNext(message.apply(sent));
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
      if (counted != expected) {
        throw new IOException("the host counted " + counted + " bytes of " + expected);
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
