package dev.thunderlink.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two workstations each running a session named "app" against one host: the host keys its
 * endpoints by (calling device, session), so neither replaces, reads or closes the other's.
 * The calling device comes from a request header here, standing in for the link's
 * authenticated peer certificate (which the host daemon passes in the same way).
 */
class HostSessionKeyingTest {
  private static final Metadata.Key<String> DEVICE = Metadata.Key.of("x-test-device", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<String> CALLER = Context.key("test-caller");

  @TempDir
  Path tmp;

  @Test
  void sameSessionNameFromTwoWorkstationsKeepsTwoEndpoints() throws Exception {
    ServerInterceptor peer = new ServerInterceptor() {
      @Override
      public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, Metadata headers,
          io.grpc.ServerCallHandler<Q, R> next) {
        return Contexts.interceptCall(Context.current().withValue(CALLER, headers.get(DEVICE)), call, headers, next);
      }
    };
    SyncHostService host = new SyncHostService(tmp.resolve("host-state"), "mini", false, Duration.ofMillis(10),
        List.of(), CALLER::get);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(host, peer)).build().start();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    try {
      Path aLocal = Files.createDirectories(tmp.resolve("a-local"));
      Path bLocal = Files.createDirectories(tmp.resolve("b-local"));
      Files.writeString(aLocal.resolve("who.txt"), "workstation A");
      Files.writeString(bLocal.resolve("who.txt"), "workstation B");
      try (SyncSession a = start(channel, "AAAA-1111", aLocal, tmp.resolve("a-remote"), tmp.resolve("a-state"));
          SyncSession b = start(channel, "BBBB-2222", bLocal, tmp.resolve("b-remote"), tmp.resolve("b-state"))) {
        a.flush(Duration.ofSeconds(30));
        b.flush(Duration.ofSeconds(30));
        assertThat(Files.readString(tmp.resolve("a-remote/who.txt"))).isEqualTo("workstation A");
        assertThat(Files.readString(tmp.resolve("b-remote/who.txt"))).isEqualTo("workstation B");
        // a second round: had B's open replaced A's endpoint, A's edit would land in B's tree
        Files.write(aLocal.resolve("who.txt"), "workstation A, again".getBytes(UTF_8));
        a.flush(Duration.ofSeconds(30));
        b.flush(Duration.ofSeconds(30));
        assertThat(Files.readString(tmp.resolve("a-remote/who.txt"))).isEqualTo("workstation A, again");
        assertThat(Files.readString(tmp.resolve("b-remote/who.txt"))).isEqualTo("workstation B");
        assertThat(SyncPair.tree(bLocal)).isEqualTo(SyncPair.tree(tmp.resolve("b-remote")));
      }
      assertThat(tmp.resolve("host-state/AAAA-1111/app/index.db")).exists();
      assertThat(tmp.resolve("host-state/BBBB-2222/app/index.db")).exists();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      host.close();
    }
  }

  private static SyncSession start(ManagedChannel channel, String device, Path local, Path remote, Path state)
      throws Exception {
    Metadata h = new Metadata();
    h.put(DEVICE, device);
    io.grpc.Channel ch = io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(h));
    return SyncSession.start(SyncSessionConfig.builder("app").localRoot(local).remoteRoot(remote.toString())
        .stateDir(state).deviceName(device).watch(false).build(), ch);
  }
}
