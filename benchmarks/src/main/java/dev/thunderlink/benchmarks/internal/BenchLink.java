package dev.thunderlink.benchmarks.internal;

import dev.thunderlink.transport.emulator.LinkEmulator;
import dev.thunderlink.transport.emulator.LinkProfile;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Where a benchmark connects for one profile: through a {@link LinkEmulator} in front of a local
 * server, or - when the system property {@code thunderlink.bench.peer.<profile>} names a host
 * running {@code PeerServer} - straight to that real peer over the real path.
 *
 * <pre>
 *   -p profile=thunderbolt,wifi                       emulated on this machine (default)
 *   -Dthunderlink.bench.peer.thunderbolt=169.254.3.7  real Thunderbolt bridge address of the peer
 *   -Dthunderlink.bench.peer.wifi=192.168.1.20        real Wi-Fi address of the peer
 * </pre>
 *
 * The profile {@code loopback} connects to the local server directly, without the emulator (its
 * overhead shows as the difference to {@code thunderbolt}). Any {@link LinkProfile#parse} spec
 * works too, e.g. {@code -p profile=wifi-busy}.
 */
public final class BenchLink implements AutoCloseable {

  /** Default ports of {@code PeerServer}. */
  public static final int ECHO_PORT = 7101;
  public static final int BULK_PORT = 7102;

  private final InetSocketAddress address;
  private final LinkEmulator emulator;
  private final String description;

  private BenchLink(InetSocketAddress address, LinkEmulator emulator, String description) {
    this.address = address;
    this.emulator = emulator;
    this.description = description;
  }

  /**
   * @param profile the JMH parameter value
   * @param localServer the local server to relay to when no real peer is configured
   * @param peerPort the port of the same service on a real peer
   */
  public static BenchLink open(String profile, InetSocketAddress localServer, int peerPort)
      throws IOException {
    String peer = System.getProperty("thunderlink.bench.peer." + profile);
    if (peer != null && !peer.isBlank()) {
      InetSocketAddress real = new InetSocketAddress(InetAddress.getByName(peer.trim()), peerPort);
      return new BenchLink(real, null, "real peer " + real);
    }
    if (profile.equals("loopback")) {
      return new BenchLink(localServer, null, "loopback, no emulator");
    }
    LinkEmulator emulator = LinkEmulator.start(LinkProfile.parse(profile),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), localServer);
    return new BenchLink(emulator.localAddress(), emulator, emulator.toString());
  }

  /** The kind of path a link over {@code profile} declares: Wi-Fi for {@code wifi*}, loopback, else Thunderbolt. */
  public static dev.thunderlink.transport.PathKind kindOf(String profile) {
    return profile.startsWith("wifi") ? dev.thunderlink.transport.PathKind.WIFI
        : profile.equals("loopback") ? dev.thunderlink.transport.PathKind.LOOPBACK
        : dev.thunderlink.transport.PathKind.THUNDERBOLT;
  }

  /** A path name made of {@code profile} ({@code 100mbit/2ms} gives {@code 100mbit_2ms}). */
  public static String pathName(String profile) {
    return profile.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** True when {@link #open} found a real peer for {@code profile}, so no local server is needed. */
  public static boolean isRemote(String profile) {
    String peer = System.getProperty("thunderlink.bench.peer." + profile);
    return peer != null && !peer.isBlank();
  }

  public InetSocketAddress address() {
    return address;
  }

  @Override
  public String toString() {
    return description;
  }

  @Override
  public void close() {
    if (emulator != null) {
      emulator.close();
    }
  }
}
