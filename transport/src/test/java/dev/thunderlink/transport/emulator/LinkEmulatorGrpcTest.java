package dev.thunderlink.transport.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.transport.testing.RawBytes;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a failover test sees through the emulator: a cut makes gRPC calls hang until their
 * deadline (a pulled cable, not a refused connection), and after restore the same channel works
 * again on the same connection.
 */
class LinkEmulatorGrpcTest {

  private static final MethodDescriptor<byte[], byte[]> ECHO =
      RawBytes.method(MethodDescriptor.MethodType.UNARY, "test.Echo/Echo");

  private Server server;
  private LinkEmulator link;
  private ManagedChannel channel;

  @BeforeEach
  void setUp() throws IOException {
    InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    server = NettyServerBuilder.forAddress(loopback)
        .addService(ServerServiceDefinition.builder("test.Echo")
            .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, response) -> {
              response.onNext(request);
              response.onCompleted();
            }))
            .build())
        .build()
        .start();
    link = LinkEmulator.start(LinkProfile.WIFI, loopback,
        new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getPort()));
    channel = NettyChannelBuilder.forAddress(link.localAddress()).usePlaintext().build();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    link.close();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void cutLooksLikeAPulledCableToGrpcAndRestoreRevivesTheSameConnection() {
    assertThat(call(5_000, "one")).isEqualTo("one");
    assertThat(link.stats().connectionsAccepted()).isEqualTo(1);

    link.cut();
    assertThatThrownBy(() -> call(300, "lost"))
        .isInstanceOf(StatusRuntimeException.class)
        .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode())
        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(link.stats().connectionsOpen()).isEqualTo(1);

    link.restore();
    assertThat(call(5_000, "two")).isEqualTo("two");
    assertThat(link.stats().connectionsAccepted())
        .as("the channel kept its connection across the cut").isEqualTo(1);
  }

  private String call(long deadlineMillis, String text) {
    return new String(ClientCalls.blockingUnaryCall(channel, ECHO,
        CallOptions.DEFAULT.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS),
        text.getBytes()));
  }
}
