package dev.thunderlink.transport.testing;

import io.grpc.MethodDescriptor;

/** gRPC methods on raw byte arrays, for tests that need a service without a .proto. Any thread. */
public final class RawBytes {
  /** Marshals a byte array as itself. */
  public static final MethodDescriptor.Marshaller<byte[]> MARSHALLER = dev.thunderlink.transport.ByteArrayMarshaller.INSTANCE;

  private RawBytes() {}

  /** A method of the given type taking and returning byte arrays. */
  public static MethodDescriptor<byte[], byte[]> method(MethodDescriptor.MethodType type, String fullName) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(type)
        .setFullMethodName(fullName)
        .setRequestMarshaller(MARSHALLER)
        .setResponseMarshaller(MARSHALLER)
        .build();
  }
}
