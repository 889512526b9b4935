package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.benchmarks.internal.RawTcpClient;
import dev.thunderlink.transport.PeerLink;
import java.time.Duration;
import java.util.List;

/**
 * {@code round-trip}: thunderlink's own {@code Link/Ping} over the real mutual-TLS link (what
 * {@code thunderlink ping} and every path probe pay), one call at a time, beside a raw TCP echo of
 * the same 64 bytes through the same path. Reports p50 and p99.
 */
final class RoundTripSuite implements BenchSuite {
  static final int PAYLOAD_BYTES = 64;
  private static final int BATCH = 100;

  @Override
  public String id() {
    return "round-trip";
  }

  @Override
  public String title() {
    return "RPC round trip";
  }

  @Override
  public String description() {
    return "thunderlink's Link/Ping (gRPC unary, mutual TLS, " + PAYLOAD_BYTES
        + "-byte payload) back to back over one path, beside a raw TCP echo of " + PAYLOAD_BYTES
        + " bytes (blocking socket, TCP_NODELAY) through the same path: the limit. Lower is better.";
  }

  @Override
  public List<BenchMetric> metrics() {
    return List.of(
        BenchMetric.measured("ping-p50", "Link Ping p50", "us", false, "echo-p50"),
        BenchMetric.measured("ping-p99", "Link Ping p99", "us", false, "echo-p99"),
        BenchMetric.limit("echo-p50", "raw TCP echo p50", "us", false),
        BenchMetric.limit("echo-p99", "raw TCP echo p99", "us", false));
  }

  private static long warmMillis(BenchBudget b) {
    return b.millis(500);
  }

  /** Per path; the bench has warmed the link's code over every path before (BenchRun#warmUp). */
  private static long pingWarmMillis(BenchBudget b) {
    return b.millis(500);
  }

  private static long pingMillis(BenchBudget b) {
    return b.millis(2000);
  }

  private static long echoMillis(BenchBudget b) {
    return b.millis(1500);
  }

  @Override
  public long plannedMillis(BenchBudget budget) {
    return pingWarmMillis(budget) + warmMillis(budget) + pingMillis(budget) + echoMillis(budget);
  }

  @Override
  public void run(BenchTarget target, BenchBudget budget, BenchRecorder recorder) throws Exception {
    recorder.phase("Link Ping over " + target.label());
    PeerLink link = target.link();
    pings(link, pingWarmMillis(budget), recorder, null);
    LatencySamples ping = new LatencySamples();
    int lost = pings(link, pingMillis(budget), recorder, ping);
    if (ping.size() == 0) {
      recorder.unavailable("ping-p50", "no ping answered");
      recorder.unavailable("ping-p99", "no ping answered");
    } else {
      recorder.value("ping-p50", ping.percentileMicros(50), ping.size());
      recorder.value("ping-p99", ping.percentileMicros(99), ping.size());
    }
    if (lost > 0) {
      recorder.note(target.label() + ": " + lost + " Link Pings lost (1 s deadline), left out of the percentiles");
    }

    if (target.echo().isEmpty()) {
      recorder.unavailable("echo-p50", target.rawUnavailable());
      recorder.unavailable("echo-p99", target.rawUnavailable());
      recorder.worked(warmMillis(budget) + echoMillis(budget));
      return;
    }
    recorder.phase("raw TCP echo over " + target.label());
    LatencySamples echo = new LatencySamples();
    try (RawTcpClient client = RawTcpClient.echo(target.echo().get(), PAYLOAD_BYTES)) {
      echoes(client, warmMillis(budget), recorder, null);
      echoes(client, echoMillis(budget), recorder, echo);
    }
    recorder.value("echo-p50", echo.percentileMicros(50), echo.size());
    recorder.value("echo-p99", echo.percentileMicros(99), echo.size());
  }

  /** Pings for {@code millis}; adds each RTT to {@code into} (null: warm-up); returns pings lost. */
  private static int pings(PeerLink link, long millis, BenchRecorder recorder, LatencySamples into)
      throws InterruptedException {
    long start = System.nanoTime();
    long end = start + millis * 1_000_000;
    long reported = start;
    int lost = 0;
    do {
      PeerLink.PingResult r = link.ping(null, BATCH, Duration.ZERO, PAYLOAD_BYTES);
      lost += r.sent() - r.rttNanos().size();
      if (into != null) {
        for (long rtt : r.rttNanos()) {
          into.add(rtt);
        }
      }
      long now = System.nanoTime();
      recorder.worked((now - reported) / 1_000_000);
      reported = now;
    } while (System.nanoTime() < end);
    return lost;
  }

  private static void echoes(RawTcpClient client, long millis, BenchRecorder recorder, LatencySamples into)
      throws java.io.IOException {
    long start = System.nanoTime();
    long end = start + millis * 1_000_000;
    long reported = start;
    do {
      for (int i = 0; i < BATCH; i++) {
        long rtt = client.roundTrip();
        if (into != null) {
          into.add(rtt);
        }
      }
      long now = System.nanoTime();
      recorder.worked((now - reported) / 1_000_000);
      reported = now;
    } while (System.nanoTime() < end);
  }
}
