package dev.thunderlink.benchmarks.internal;

import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;

/**
 * {@code thunderlink.bench.ByteSink/Upload}: a client-streaming gRPC method that takes chunks of
 * bytes and, when the client half-closes, answers with the total byte count (8 bytes, big-endian).
 * It is what "gRPC streaming of bytes" costs on the link, registered on the host's real {@code
 * LinkServer} (mutual TLS, the link's tuning) for {@code thunderlink bench}; a host daemon may
 * register it too so a real host can be measured.
 *
 * <p>Byte-array marshallers instead of a .proto: the figure is gRPC/HTTP2/TLS, not protobuf.
 * The service runs on gRPC's executor; each call's count is confined to that call.
 */
public final class ByteSinkService {

  public static final String SERVICE = "thunderlink.bench.ByteSink";

  public static final MethodDescriptor<byte[], byte[]> UPLOAD =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Upload"))
          .setRequestMarshaller(dev.thunderlink.transport.ByteArrayMarshaller.INSTANCE)
          .setResponseMarshaller(dev.thunderlink.transport.ByteArrayMarshaller.INSTANCE)
          .build();

  private ByteSinkService() {}

  public static ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder(SERVICE)
        .addMethod(UPLOAD, ServerCalls.asyncClientStreamingCall(ByteSinkService::upload))
        .build();
  }

  private static StreamObserver<byte[]> upload(StreamObserver<byte[]> response) {
    return new StreamObserver<>() {
      private long bytes;

      @Override
      public void onNext(byte[] chunk) {
        bytes += chunk.length;
      }

      @Override
      public void onError(Throwable t) {
        // the client went away; nothing to answer
      }

      @Override
      public void onCompleted() {
        response.onNext(ByteBuffer.allocate(Long.BYTES).putLong(bytes).array());
        response.onCompleted();
      }
    };
  }

  /** Reads the total of an {@link #UPLOAD} answer. */
  public static long total(byte[] answer) {
    if (answer.length != Long.BYTES) {
      throw Status.INTERNAL.withDescription("ByteSink answer: " + answer.length + " bytes (expected: 8)")
          .asRuntimeException();
    }
    return ByteBuffer.wrap(answer).getLong();
  }
}
