package dev.thunderlink.daemon;

import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TransportFactory;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * What both daemons share: home (locked), identity, pinned peers and the event loops of
 * the one transport. Closed last, after every server and channel that uses the loops.
 */
final class DaemonRuntime implements AutoCloseable, dev.thunderlink.daemon.internal.ControlService.DaemonState {
  final DaemonHome home;
  final DeviceIdentity identity;
  final PeerStore peers;
  final TransportFactory transport;
  final EventLoopGroup boss;
  final EventLoopGroup workers;
  final long startedNanos = System.nanoTime();
  final long startedMillis = System.currentTimeMillis();

  DaemonRuntime(DaemonOptions options, String role) throws IOException {
    this.home = options.home();
    home.ensure();
    home.lock(role);
    try {
      this.identity = home.identity();
      this.peers = home.peers();
      peers.peers(); // fail now on an unreadable peers file, naming it
    } catch (IOException | RuntimeException e) {
      home.close();
      throw e;
    }
    this.transport = options.transport();
    this.boss = transport.newGroup(1, "thunderlink-boss");
    this.workers = transport.newGroup(0, "thunderlink-io");
  }

  @Override
  public DeviceIdentity identity() {
    return identity;
  }

  @Override
  public PeerStore peers() {
    return peers;
  }

  @Override
  public String transportName() {
    return transport.toString();
  }

  @Override
  public String homeDir() {
    return home.dir().toString();
  }

  @Override
  public long uptimeMillis() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
  }

  @Override
  public void close() {
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    boss.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    try {
      home.close();
    } catch (IOException e) {
      // the lock dies with the process anyway
    }
  }
}
