package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.proto.link.LinkGrpc;
import dev.thunderlink.proto.link.PingRequest;
import io.grpc.BindableService;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local control endpoint: token required, and clear errors when no daemon answers. */
class LocalControlServerTest {
  @TempDir Path home;

  @Test
  void noDaemonAndAStaleControlFileSayWhatToDo() throws Exception {
    assertThatThrownBy(() -> LocalControlServer.connect(home))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no thunderlink daemon is running for home")
        .hasMessageContaining("thunderlink serve");
    // a crashed daemon leaves its control file behind: the pid in it is dead
    Files.writeString(home.resolve("control.json"), "{\"port\": 1, \"token\": \"x\", \"pid\": 2147483646, \"role\": \"host\"}");
    assertThatThrownBy(() -> LocalControlServer.connect(home))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("(pid 2147483646) is not running any more; start it again");
  }

  @Test
  void callsNeedTheTokenFromTheControlFile() throws Exception {
    TransportFactory tf = TransportFactory.auto();
    EventLoopGroup g = tf.newGroup(1, "test-control");
    BindableService echo =
        new LinkGrpc.LinkImplBase() {
          @Override
          public void ping(PingRequest r, StreamObserver<dev.thunderlink.proto.link.PingResponse> out) {
            out.onNext(dev.thunderlink.proto.link.PingResponse.newBuilder().setSequence(r.getSequence()).build());
            out.onCompleted();
          }
        };
    try (LocalControlServer server =
        new LocalControlServer(home, 0, "host", List.of(echo.bindService()), tf, g, g).start()) {
      try (LocalControlServer.Connection c = LocalControlServer.connect(home)) {
        assertThat(LinkGrpc.newBlockingStub(c.channel()).ping(PingRequest.newBuilder().setSequence(7).build()).getSequence())
            .isEqualTo(7);
      }
      var anonymous = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        assertThatThrownBy(() -> LinkGrpc.newBlockingStub(anonymous).ping(PingRequest.getDefaultInstance()))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
              assertThat(e.getStatus().getDescription()).contains("control token").contains("control.json");
            });
      } finally {
        anonymous.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
      }
    } finally {
      g.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
    assertThat(home.resolve("control.json")).as("removed on close").doesNotExist();
  }
}
