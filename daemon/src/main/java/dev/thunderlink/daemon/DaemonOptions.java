package dev.thunderlink.daemon;

import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.TransportFactory;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * What a daemon is started with, validated once.
 *
 * @param home the home directory
 * @param transport the transport to run on
 * @param listen host: addresses to listen on
 * @param paths workstation: the paths to the host
 * @param controlPort local control port (0: any free one)
 * @param discover workstation: also use host addresses learned in the handshake
 */
public record DaemonOptions(
    DaemonHome home,
    TransportFactory transport,
    List<InetSocketAddress> listen,
    List<LinkPath> paths,
    int controlPort,
    boolean discover) {
  public DaemonOptions {
    Objects.requireNonNull(home, "home");
    Objects.requireNonNull(transport, "transport");
    listen = List.copyOf(listen);
    paths = List.copyOf(paths);
    if (controlPort < 0 || controlPort > 65535) {
      throw new IllegalArgumentException("--control-port: " + controlPort + " (expected: 0-65535)");
    }
  }
}
