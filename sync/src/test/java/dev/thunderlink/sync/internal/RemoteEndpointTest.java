package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.sync.SyncHostService;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The workstation's view of the host side over a real grpc-netty server on 127.0.0.1. */
class RemoteEndpointTest {
  @TempDir
  Path tmp;

  private final AtomicInteger changesCalls = new AtomicInteger();
  private SyncHostService host;
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    ServerInterceptor counter = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        if (call.getMethodDescriptor().getBareMethodName().equals("Changes")) {
          changesCalls.incrementAndGet();
        }
        return next.startCall(call, headers);
      }
    };
    host = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(host, counter)).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    host.close();
  }

  @Test
  void incrementalChangesSkipTheRoundTripWhileTheHostHasSignalledNothing() throws Exception {
    Path root = tmp.resolve("mini-root");
    try (RemoteEndpoint remote = RemoteEndpoint.open(channel, "s", root.toString(), List.of(), false, false, false)) {
      AtomicInteger events = new AtomicInteger();
      remote.onChange(events::incrementAndGet);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(remote::watchLive);
      Endpoint.ChangeSet first = remote.changes(0, false, List.of());
      assertThat(changesCalls.get()).isEqualTo(1);
      Endpoint.ChangeSet quiet = remote.changes(first.lastSeq(), false, List.of());
      assertThat(quiet.changes()).isEmpty();
      assertThat(changesCalls.get()).as("nothing signalled: answered without a call").isEqualTo(1);
      remote.changes(first.lastSeq(), true, List.of());
      assertThat(changesCalls.get()).as("a full rescan always asks").isEqualTo(2);

      // a change on the host arrives as an event, and the next call asks again and sees it
      Files.writeString(root.resolve("new.txt"), "from the mini");
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> events.get() > 0);
      Endpoint.ChangeSet seen = remote.changes(first.lastSeq(), false, List.of());
      assertThat(changesCalls.get()).isEqualTo(3);
      assertThat(seen.changes()).containsKey("new.txt");
    }
  }
}
