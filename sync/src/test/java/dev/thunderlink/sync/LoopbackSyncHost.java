package dev.thunderlink.sync;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real host side for a test: a {@link SyncHostService} (device "mini", watching) on a
 * grpc-netty server on 127.0.0.1 at a free port, and a plaintext channel to it.
 */
public final class LoopbackSyncHost implements AutoCloseable {
  private final SyncHostService host;
  private final Server server;
  private final ManagedChannel channel;

  public LoopbackSyncHost(Path stateDir) throws IOException {
    host = new SyncHostService(stateDir, "mini", true, Duration.ofMillis(10));
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(host).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  public ManagedChannel channel() {
    return channel;
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    host.close();
  }
}
