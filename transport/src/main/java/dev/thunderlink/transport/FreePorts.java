package dev.thunderlink.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks a TCP port for another process (or a later bind) to listen on.
 *
 * <p>The usual trick, binding port 0 and closing, hands out a port from the kernel's ephemeral
 * range, which every outgoing connection on the machine draws from too: between the close and the
 * daemon's bind, a connection's local end can take it (clean-clone CI lost a run to exactly that,
 * "metrics.port: 36307 is already in use"). Ports below the ephemeral range are never given to
 * outgoing connections, so a free one stays free unless somebody binds it on purpose.
 */
public final class FreePorts {
  private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
  /** Linux's default first ephemeral port; macOS starts at 49152, so ports below it are safe too. */
  private static final int DEFAULT_EPHEMERAL_START = 32768;
  private static final int LOWEST = 20000;
  private static final int ATTEMPTS = 200;

  private FreePorts() {}

  /** A port that is free on every one of {@code addresses} and outside the ephemeral range. */
  public static int pick(InetAddress... addresses) throws IOException {
    List<InetAddress> on = addresses.length == 0 ? List.of(InetAddress.getLoopbackAddress()) : List.of(addresses);
    int top = ephemeralStart();
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int i = 0; i < ATTEMPTS; i++) {
      int port = top > LOWEST + 1000 ? random.nextInt(LOWEST, top) : random.nextInt(1024, top);
      if (freeOnAll(port, on)) {
        return port;
      }
    }
    throw new IOException("no free TCP port found below " + top + " after " + ATTEMPTS + " tries on " + on);
  }

  static int ephemeralStart() {
    try {
      String[] range = ProcFiles.read(EPHEMERAL_RANGE).split("\\s+");
      int start = Integer.parseInt(range[0]);
      return start > 2048 ? start : DEFAULT_EPHEMERAL_START;
    } catch (IOException | RuntimeException e) {
      return DEFAULT_EPHEMERAL_START;
    }
  }

  private static boolean freeOnAll(int port, List<InetAddress> addresses) {
    for (InetAddress a : addresses) {
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(false);
        s.bind(new InetSocketAddress(a, port), 1);
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }
}
