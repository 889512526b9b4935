package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class FreePortsTest {
  @Test
  void picksAPortBelowTheEphemeralRangeThatBindsOnEveryAddressGiven() throws Exception {
    InetAddress one = InetAddress.getByName("127.0.0.1");
    InetAddress two = InetAddress.getByName("127.0.0.2");
    for (int i = 0; i < 20; i++) {
      int port = FreePorts.pick(one, two);
      assertThat(port).isBetween(1024, FreePorts.ephemeralStart() - 1);
      try (ServerSocket a = new ServerSocket(); ServerSocket b = new ServerSocket()) {
        a.bind(new InetSocketAddress(one, port));
        b.bind(new InetSocketAddress(two, port));
        assertThat(a.getLocalPort()).isEqualTo(port);
        assertThat(b.getLocalPort()).isEqualTo(port);
      }
    }
  }

  @Test
  void neverReturnsAPortThatIsListenedOnAlready() throws Exception {
    InetAddress lo = InetAddress.getByName("127.0.0.1");
    int taken = FreePorts.pick(lo);
    try (ServerSocket held = new ServerSocket(taken, 1, lo)) {
      for (int i = 0; i < 200; i++) {
        assertThat(FreePorts.pick(lo)).isNotEqualTo(held.getLocalPort());
      }
    }
  }

  @Test
  void theEphemeralRangeIsReadFromTheKernel() throws Exception {
    java.nio.file.Path range = java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(range), "Linux only");
    int first = Integer.parseInt(ProcFilesTest.cat(range.toString()).split("\\s+")[0]);
    assertThat(FreePorts.ephemeralStart()).isEqualTo(first > 2048 ? first : 32768);
  }
}
