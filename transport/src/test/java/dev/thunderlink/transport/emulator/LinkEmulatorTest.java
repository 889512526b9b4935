package dev.thunderlink.transport.emulator;

import static dev.thunderlink.transport.emulator.LoopbackPeer.await;
import static dev.thunderlink.transport.emulator.LoopbackPeer.connect;
import static dev.thunderlink.transport.emulator.LoopbackPeer.readFully;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The emulator delivers what its profile claims, cuts like a pulled cable and survives its
 * endpoints going away. Every test uses real sockets on loopback.
 */
class LinkEmulatorTest {

  private static final InetSocketAddress ANY_LOOPBACK =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  private static final Duration AWAIT = Duration.ofSeconds(10);

  /*
   * Timing claims on a shared CI machine: CPU contention only ever adds delay and takes away
   * throughput. So each claim is measured up to {@link #ATTEMPTS} times and must hold in one attempt, while
   * the bound contention cannot explain (faster than the profile, shorter than the delay) must
   * hold in every attempt.
   */

  /**
   * Attempts per timing claim. Three were not enough with two busy loops beside the build on
   * this 2-core machine: the Wi-Fi profile's median delay came out 3.11 ms against 2.5 ± 0.5 in
   * the best of three. An attempt that holds ends the loop, so an idle machine still runs one.
   */
  private static final int ATTEMPTS = 5;

  @Test
  void rateLimitWithinTenPercentUpstream() throws Exception {
    long rate = 100_000_000L; // 12.5 MB/s
    assertRateWithinTenPercent(rate, () -> upstreamRate(rate, 6 * 1024 * 1024));
  }

  @Test
  void wifiRateWithinTenPercentDownstream() throws Exception {
    long rate = LinkProfile.WIFI.rateBitsPerSecond(); // 75 MB/s
    assertRateWithinTenPercent(rate, () -> downstreamRate(LinkProfile.WIFI, 30 * 1024 * 1024));
  }

  @Test
  void delayWithinHalfMillisecondAtLowLoad() throws Exception {
    try (LoopbackPeer echo = LoopbackPeer.echo()) {
      for (LinkProfile profile : new LinkProfile[] {
          LinkProfile.custom(0, Duration.ofMillis(5), Duration.ZERO),
          LinkProfile.WIFI,
          LinkProfile.THUNDERBOLT}) {
        double expected = profile.oneWayDelay().toNanos() / 1e6;
        double best = Double.MAX_VALUE;
        for (int attempt = 0; attempt < ATTEMPTS && Math.abs(best - expected) > 0.5; attempt++) {
          double baseline = medianRttMillis(echo.address());
          try (LinkEmulator link = LinkEmulator.start(profile, ANY_LOOPBACK, echo.address())) {
            double oneWay = (medianRttMillis(link.localAddress()) - baseline) / 2;
            assertThat(oneWay).as("median one-way delay added by %s, ms", profile)
                .isGreaterThan(expected - 0.5);
            best = Math.min(best, oneWay);
          }
        }
        assertThat(best)
            .as("median one-way delay added by %s, ms, best of %d", profile, ATTEMPTS)
            .isCloseTo(expected, within(0.5));
      }
    }
  }

  private interface RateMeasurement {
    double bitsPerSecond() throws Exception;
  }

  private static void assertRateWithinTenPercent(long rate, RateMeasurement measurement)
      throws Exception {
    double best = 0;
    for (int attempt = 0; attempt < ATTEMPTS && best < rate * 0.9; attempt++) {
      double measured = measurement.bitsPerSecond();
      assertThat(measured).as("never faster than the profile").isLessThan(rate * 1.1);
      best = Math.max(best, measured);
    }
    assertThat(best).as("bit/s, best of %d", ATTEMPTS).isCloseTo(rate, within(rate * 0.10));
  }

  /** Sends {@code total} bytes through a fresh emulator; rate between first and last byte. */
  private static double upstreamRate(long rate, int total) throws Exception {
    AtomicLong firstByteNanos = new AtomicLong();
    AtomicLong lastByteNanos = new AtomicLong();
    AtomicLong received = new AtomicLong();
    try (LoopbackPeer sink = new LoopbackPeer(s -> {
          InputStream in = s.getInputStream();
          byte[] buf = new byte[64 * 1024];
          int n;
          while ((n = in.read(buf)) >= 0) {
            long now = System.nanoTime();
            firstByteNanos.compareAndSet(0, now);
            lastByteNanos.set(now);
            received.addAndGet(n);
          }
        });
        LinkEmulator link = LinkEmulator.start(
            LinkProfile.custom(rate, Duration.ZERO, Duration.ZERO), ANY_LOOPBACK, sink.address());
        Socket client = connect(link.localAddress())) {
      client.getOutputStream().write(new byte[total]);
      client.shutdownOutput();
      await("all bytes at the sink", AWAIT, () -> received.get() == total);
      await("stats to count them", AWAIT, () -> link.stats().bytesToTarget() == total);
      return total * 8 / ((lastByteNanos.get() - firstByteNanos.get()) / 1e9);
    }
  }

  /** Receives {@code total} bytes from the target through a fresh emulator. */
  private static double downstreamRate(LinkProfile profile, int total) throws Exception {
    try (LoopbackPeer source = new LoopbackPeer(s -> {
          OutputStream out = s.getOutputStream();
          byte[] chunk = new byte[64 * 1024];
          for (int sent = 0; sent < total; sent += chunk.length) {
            out.write(chunk);
          }
          s.shutdownOutput();
          s.getInputStream().read(); // hold the socket open until the client closes
        });
        LinkEmulator link = LinkEmulator.start(profile, ANY_LOOPBACK, source.address());
        Socket client = connect(link.localAddress())) {
      InputStream in = client.getInputStream();
      byte[] buf = new byte[64 * 1024];
      long first = 0;
      long last = 0;
      long got = 0;
      int n;
      while ((n = in.read(buf)) >= 0) {
        last = System.nanoTime();
        if (first == 0) {
          first = last;
        }
        got += n;
      }
      assertThat(got).isEqualTo(total);
      await("stats to count them", AWAIT, () -> link.stats().bytesToClient() == total);
      return total * 8 / ((last - first) / 1e9);
    }
  }

  @Test
  void jitterStaysWithinItsBoundsAndKeepsOrder() throws Exception {
    LinkProfile profile = LinkProfile.custom(0, Duration.ofMillis(4), Duration.ofMillis(3));
    try (LoopbackPeer echo = LoopbackPeer.echo();
        LinkEmulator link = LinkEmulator.start(profile, ANY_LOOPBACK, echo.address());
        Socket client = connect(link.localAddress())) {
      OutputStream out = client.getOutputStream();
      InputStream in = client.getInputStream();
      byte[] sent = new byte[200 * 16];
      new Random(42).nextBytes(sent);
      medianRttMillis(client, 5); // warm up the path and the JIT
      double[] rtts = new double[20];
      for (int i = 0; i < 20; i++) {
        long t0 = System.nanoTime();
        out.write(sent, i * 160, 160);
        byte[] back = readFully(in, 160);
        rtts[i] = (System.nanoTime() - t0) / 1e6;
        assertThat(back).isEqualTo(Arrays.copyOfRange(sent, i * 160, (i + 1) * 160));
      }
      double[] measured = rtts.clone();
      Arrays.sort(measured);
      // Nothing arrives before the shortest delay; contention may add, never subtract.
      assertThat(measured[0]).isGreaterThanOrEqualTo(2 * 1.0);
      // Most round trips stay within the longest delay (2 x 7 ms) plus some slack for load.
      assertThat(measured[15]).isLessThan(2 * 7.0 + 2.0);
      assertThat(measured[15] - measured[0]).as("jitter is visible").isGreaterThan(0.5);
      // A burst of small writes spread over the jitter window still arrives in order.
      for (int i = 0; i < sent.length; i += 16) {
        out.write(sent, i, 16);
      }
      assertThat(readFully(in, sent.length)).isEqualTo(sent);
    }
  }

  @Test
  void cutStopsForwardingWithoutClosingAndRestoreResumes() throws Exception {
    try (LoopbackPeer echo = LoopbackPeer.echo();
        LinkEmulator link = LinkEmulator.start(LinkProfile.THUNDERBOLT, ANY_LOOPBACK,
            echo.address());
        Socket client = connect(link.localAddress())) {
      OutputStream out = client.getOutputStream();
      InputStream in = client.getInputStream();
      out.write("before".getBytes());
      assertThat(new String(readFully(in, 6))).isEqualTo("before");

      link.cut();
      assertThat(link.stats().cut()).isTrue();
      out.write("during".getBytes());
      client.setSoTimeout(300);
      assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
      assertThat(link.stats().bytesToTarget()).isEqualTo(6);
      assertThat(link.stats().connectionsOpen()).isEqualTo(1);
      assertThat(client.isClosed()).isFalse();

      link.restore();
      client.setSoTimeout(10_000);
      assertThat(new String(readFully(in, 6))).isEqualTo("during");
      out.write("after".getBytes());
      assertThat(new String(readFully(in, 5))).isEqualTo("after");
      await("stats to count 17 bytes each way", AWAIT,
          () -> link.stats().bytesToTarget() == 17 && link.stats().bytesToClient() == 17);
    }
  }

  @Test
  void cutHoldsABoundedAmountWhileTheSenderKeepsWriting() throws Exception {
    try (LoopbackPeer echo = LoopbackPeer.echo();
        LinkEmulator link = LinkEmulator.start(LinkProfile.THUNDERBOLT, ANY_LOOPBACK,
            echo.address());
        Socket client = connect(link.localAddress())) {
      link.cut();
      AtomicLong written = new AtomicLong();
      Thread writer = new Thread(() -> {
        byte[] chunk = new byte[64 * 1024];
        try {
          OutputStream out = client.getOutputStream();
          for (int i = 0; i < 1024; i++) { // 64 MiB if nothing pushed back
            out.write(chunk);
            written.addAndGet(chunk.length);
          }
        } catch (IOException e) {
          // closed at the end of the test
        }
      });
      writer.setDaemon(true);
      writer.start();
      // The writer stalls once kernel buffers and the emulator's bounded hold are full:
      // wait until its count has not moved for 200 ms.
      long[] last = {-1, System.nanoTime()};
      await("the writer to stall", AWAIT, () -> {
        long now = written.get();
        if (now != last[0]) {
          last[0] = now;
          last[1] = System.nanoTime();
          return false;
        }
        return System.nanoTime() - last[1] > 200_000_000L;
      });
      assertThat(written.get()).isLessThan(64L * 1024 * 1024);
      assertThat(link.stats().bytesHeld()).isLessThanOrEqualTo(
          DelayLine.highWater(LinkProfile.THUNDERBOLT) + 256 * 1024);
      assertThat(link.stats().bytesToTarget()).isZero();
      client.close();
      writer.join(5_000);
    }
  }

  @Test
  void halfCloseIsForwardedAfterTheData() throws Exception {
    try (LoopbackPeer upper = new LoopbackPeer(s -> {
          byte[] all = s.getInputStream().readAllBytes(); // until the client's FIN
          s.getOutputStream().write(new String(all).toUpperCase().getBytes());
          s.shutdownOutput();
        });
        LinkEmulator link = LinkEmulator.start(LinkProfile.WIFI, ANY_LOOPBACK, upper.address());
        Socket client = connect(link.localAddress())) {
      client.getOutputStream().write("hello through wifi".getBytes());
      client.shutdownOutput();
      assertThat(new String(client.getInputStream().readAllBytes()))
          .isEqualTo("HELLO THROUGH WIFI");
      await("the relayed connection to close", AWAIT,
          () -> link.stats().connectionsOpen() == 0);
    }
  }

  @Test
  void survivesTheClientClosingMidStream() throws Exception {
    try (LoopbackPeer echo = LoopbackPeer.echo();
        LinkEmulator link = LinkEmulator.start(LinkProfile.WIFI, ANY_LOOPBACK, echo.address())) {
      Socket first = connect(link.localAddress());
      first.getOutputStream().write(new byte[256 * 1024]);
      Socket targetSide = echo.nextAccepted(AWAIT);
      assertThat(targetSide).isNotNull();
      first.setSoLinger(true, 0); // reset, the rudest way to leave
      first.close();
      await("the target side to be closed", AWAIT, () -> {
        try {
          targetSide.setSoTimeout(1);
          return targetSide.getInputStream().read(new byte[1 << 20]) < 0;
        } catch (SocketTimeoutException e) {
          return false;
        } catch (IOException e) {
          return true;
        }
      });
      await("no connection left", AWAIT, () -> link.stats().connectionsOpen() == 0);
      assertEchoWorks(link);
      await("bytes held drop to zero", AWAIT, () -> link.stats().bytesHeld() == 0);
    }
  }

  @Test
  void bytesSentBeforeAResetStillArriveAsOnARealNetwork() throws Exception {
    // A host that writes its reason and then resets (it closed with the client's data unread)
    // must not lose the reason in the relay: the bytes left before the reset, so they arrive.
    // (The host answers after the client's first byte: the relay is then under way, reading.)
    try (LoopbackPeer resetter = new LoopbackPeer(s -> {
          s.getInputStream().read();
          s.getOutputStream().write("why".getBytes());
          s.getOutputStream().flush();
          s.setSoLinger(true, 0);
        });
        LinkEmulator link = LinkEmulator.start(LinkProfile.WIFI, ANY_LOOPBACK, resetter.address());
        Socket client = connect(link.localAddress())) {
      client.setSoTimeout(10_000);
      client.getOutputStream().write('?');
      byte[] got = new byte[3];
      int n = 0;
      try {
        for (int r; n < 3 && (r = client.getInputStream().read(got, n, 3 - n)) > 0; ) {
          n += r;
        }
      } catch (IOException e) {
        // a reset after the bytes is fine; what matters is what arrived before it
      }
      assertThat(new String(got, 0, n)).isEqualTo("why");
      await("no connection left", AWAIT, () -> link.stats().connectionsOpen() == 0);
    }
  }

  @Test
  void survivesTheTargetClosing() throws Exception {
    try (LoopbackPeer closer = new LoopbackPeer(s -> s.getOutputStream().write("bye".getBytes()));
        LinkEmulator link = LinkEmulator.start(LinkProfile.WIFI, ANY_LOOPBACK, closer.address());
        Socket client = connect(link.localAddress())) {
      assertThat(new String(client.getInputStream().readAllBytes())).isEqualTo("bye");
      // The target's FIN is only a half-close to the relay; the client closing ends it.
      assertThat(link.stats().connectionsOpen()).isEqualTo(1);
      client.close();
      await("no connection left", AWAIT, () -> link.stats().connectionsOpen() == 0);
    }
  }

  @Test
  void unreachableTargetClosesTheClientAndTheEmulatorCarriesOn() throws Exception {
    InetSocketAddress nobody;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      nobody = (InetSocketAddress) s.getLocalSocketAddress();
    }
    try (LinkEmulator link = LinkEmulator.start(LinkProfile.THUNDERBOLT, ANY_LOOPBACK, nobody);
        Socket client = connect(link.localAddress())) {
      client.setSoTimeout(10_000);
      assertThat(client.getInputStream().read()).isEqualTo(-1);
      await("no connection left", AWAIT, () -> link.stats().connectionsOpen() == 0);
      assertThat(link.stats().connectionsAccepted()).isEqualTo(1);
    }
  }

  @Test
  void connectionAcceptedDuringCutReachesTheTargetOnRestore() throws Exception {
    try (LoopbackPeer echo = LoopbackPeer.echo();
        LinkEmulator link = LinkEmulator.start(LinkProfile.THUNDERBOLT, ANY_LOOPBACK,
            echo.address())) {
      link.cut();
      try (Socket client = connect(link.localAddress())) {
        client.getOutputStream().write("x".getBytes());
        assertThat(echo.nextAccepted(Duration.ofMillis(300))).isNull();
        link.restore();
        client.setSoTimeout(10_000);
        assertThat(new String(readFully(client.getInputStream(), 1))).isEqualTo("x");
      }
    }
  }

  @Test
  void setProfileAppliesToLiveConnections() throws Exception {
    try (LoopbackPeer echo = LoopbackPeer.echo();
        LinkEmulator link = LinkEmulator.start(LinkProfile.THUNDERBOLT, ANY_LOOPBACK,
            echo.address());
        Socket client = connect(link.localAddress())) {
      double fast = medianRttMillis(client, 10);
      link.setProfile(LinkProfile.custom(0, Duration.ofMillis(10), Duration.ZERO));
      assertThat(link.profile().oneWayDelay()).isEqualTo(Duration.ofMillis(10));
      double slow = medianRttMillis(client, 9);
      // The precise delay is delayWithinHalfMillisecondAtLowLoad's business; here: it applies.
      assertThat(slow - fast).isBetween(19.0, 30.0);
    }
  }

  @Test
  void closeClosesEveryRelayedConnection() throws Exception {
    try (LoopbackPeer echo = LoopbackPeer.echo()) {
      LinkEmulator link = LinkEmulator.start(LinkProfile.WIFI, ANY_LOOPBACK, echo.address());
      try (Socket client = connect(link.localAddress())) {
        assertEchoWorks(client);
        link.close();
        link.close(); // idempotent
        client.setSoTimeout(10_000);
        assertThat(client.getInputStream().read()).isEqualTo(-1);
      }
    }
  }

  @Test
  void busyListenAddressFailsWithOneLineMessage() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      InetSocketAddress address = (InetSocketAddress) taken.getLocalSocketAddress();
      assertThatThrownBy(() -> LinkEmulator.start(LinkProfile.WIFI, address, address))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("cannot listen on " + address)
          .hasMessageNotContaining("\n");
    }
  }

  private static void assertEchoWorks(LinkEmulator link) throws IOException {
    try (Socket client = connect(link.localAddress())) {
      assertEchoWorks(client);
    }
  }

  private static void assertEchoWorks(Socket client) throws IOException {
    client.getOutputStream().write("ping".getBytes());
    assertThat(new String(readFully(client.getInputStream(), 4))).isEqualTo("ping");
  }

  private static double medianRttMillis(InetSocketAddress address) throws IOException {
    try (Socket client = connect(address)) {
      medianRttMillis(client, 10); // warm up the path, the JIT and the timer-slack estimate
      // 101 samples: the median of the jittered profile's RTT then has a standard error of
      // about 0.15 ms, well inside the 0.5 ms tolerance per direction.
      return medianRttMillis(client, 101);
    }
  }

  private static double medianRttMillis(Socket client, int rounds) throws IOException {
    OutputStream out = client.getOutputStream();
    InputStream in = client.getInputStream();
    byte[] ping = new byte[64];
    double[] rtts = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      long t0 = System.nanoTime();
      out.write(ping);
      readFully(in, ping.length);
      rtts[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(rtts);
    return rtts[rounds / 2];
  }
}
