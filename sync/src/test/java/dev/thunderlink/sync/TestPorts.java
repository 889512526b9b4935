package dev.thunderlink.sync;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A loopback port for a server that must bind the same port again later (a host restart).
 *
 * <p>The port a bind to 0 hands out is in the kernel's ephemeral range, which outgoing
 * connections draw their local ports from: once the first server is closed, a connection
 * (the session's own reconnect attempts included) can take it before the restart binds it. A
 * port below that range is never handed out that way. The same rule as transport's {@code
 * FreePorts.pick}, which sync cannot depend on.
 */
final class TestPorts {
  private TestPorts() {}

  static int pick() throws IOException {
    int top = 32768;
    try {
      int start = Integer.parseInt(
          Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+")[0]);
      if (start > 21000) {
        top = start;
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: 32768 is below macOS's 49152 too
    }
    for (int i = 0; i < 200; i++) {
      int port = ThreadLocalRandom.current().nextInt(20000, top);
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(false);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
        return port;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no free TCP port below " + top + " after 200 tries");
  }
}
