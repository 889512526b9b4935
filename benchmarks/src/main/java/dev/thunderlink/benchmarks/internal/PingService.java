package dev.thunderlink.benchmarks.internal;

import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A one-method gRPC service, {@code thunderlink.bench.Ping/Ping}, that answers with the request's
 * bytes. Defined with a byte-array marshaller instead of a .proto so the benchmark measures the
 * gRPC/HTTP2 path and nothing of protobuf; the link's own service replaces it when it lands.
 */
public final class PingService {

  public static final MethodDescriptor<byte[], byte[]> PING =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName("thunderlink.bench.Ping", "Ping"))
          .setRequestMarshaller(BytesMarshaller.INSTANCE)
          .setResponseMarshaller(BytesMarshaller.INSTANCE)
          .build();

  private PingService() {}

  public static ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder("thunderlink.bench.Ping")
        .addMethod(PING, ServerCalls.asyncUnaryCall((request, response) -> {
          response.onNext(request);
          response.onCompleted();
        }))
        .build();
  }

  private enum BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    INSTANCE;

    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
