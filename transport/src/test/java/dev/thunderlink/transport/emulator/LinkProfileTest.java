package dev.thunderlink.transport.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LinkProfileTest {

  @Test
  void presetsMatchTheIssue() {
    assertThat(LinkProfile.THUNDERBOLT.unlimitedRate()).isTrue();
    assertThat(LinkProfile.THUNDERBOLT.oneWayDelay()).isEqualTo(Duration.ofNanos(50_000));
    assertThat(LinkProfile.WIFI.rateBitsPerSecond()).isEqualTo(600_000_000L);
    assertThat(LinkProfile.WIFI.oneWayDelay()).isEqualTo(Duration.ofMillis(2).plusNanos(500_000));
    assertThat(LinkProfile.WIFI.jitter()).isEqualTo(Duration.ofMillis(1).plusNanos(500_000));
    assertThat(LinkProfile.WIFI_BUSY.rateBitsPerSecond()).isEqualTo(200_000_000L);
    assertThat(LinkProfile.WIFI_BUSY.oneWayDelay()).isEqualTo(Duration.ofMillis(10));
    assertThat(LinkProfile.WIFI_BUSY.jitter()).isEqualTo(Duration.ofMillis(8));
  }

  @Test
  void parsesNamesAndCustomSpecs() {
    assertThat(LinkProfile.parse("thunderbolt")).isSameAs(LinkProfile.THUNDERBOLT);
    assertThat(LinkProfile.parse(" WiFi ")).isSameAs(LinkProfile.WIFI);
    assertThat(LinkProfile.parse("wifi-busy")).isSameAs(LinkProfile.WIFI_BUSY);
    LinkProfile p = LinkProfile.parse("100mbit,2ms,0.5ms");
    assertThat(p.rateBitsPerSecond()).isEqualTo(100_000_000L);
    assertThat(p.oneWayDelay()).isEqualTo(Duration.ofMillis(2));
    assertThat(p.jitter()).isEqualTo(Duration.ofNanos(500_000));
    LinkProfile q = LinkProfile.parse("unlimited,50us");
    assertThat(q.unlimitedRate()).isTrue();
    assertThat(q.oneWayDelay()).isEqualTo(Duration.ofNanos(50_000));
    assertThat(q.jitter()).isZero();
    assertThat(LinkProfile.parse("1.5gbit,0.01s").rateBitsPerSecond()).isEqualTo(1_500_000_000L);
    assertThat(LinkProfile.parse("100mbit/2ms/0.5ms")).isEqualTo(
        new LinkProfile("100mbit/2ms/0.5ms", 100_000_000L, Duration.ofMillis(2),
            Duration.ofNanos(500_000)));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "ethernet             | link profile: 'ethernet' (expected: thunderbolt, wifi, wifi-busy",
      "100mbit              | link profile: '100mbit' (expected:",
      "fast,2ms             | rate: 'fast' (expected: a number with kbit, mbit or gbit, or unlimited)",
      "-5mbit,2ms           | rate: '-5mbit' (expected:",
      "100mbit,2            | delay: '2' (expected: a duration such as 2ms, 50us or 0.01s)",
      "100mbit,-2ms         | delay: '-2ms' (expected: a duration >= 0",
      "100mbit,2ms,3ms      | jitter: PT0.003S (expected: >= 0 and <= oneWayDelay PT0.002S)",
      "100mbit,2ms,1ms,1ms  | link profile: '100mbit,2ms,1ms,1ms' (expected:",
      "10,1ms               | rateBitsPerSecond: 10 (expected: >= 8000 or 0 = unlimited)",
  })
  void rejectsBadSpecsWithOneLineMessage(String spec, String message) {
    assertThatThrownBy(() -> LinkProfile.parse(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message)
        .hasMessageNotContaining("\n");
  }

  @Test
  void rejectsNegativeRateAndDelay() {
    assertThatThrownBy(() -> LinkProfile.custom(-1, Duration.ZERO, Duration.ZERO))
        .hasMessage("rateBitsPerSecond: -1 (expected: >= 0, 0 = unlimited)");
    assertThatThrownBy(() -> LinkProfile.custom(0, Duration.ofMillis(-1), Duration.ZERO))
        .hasMessage("oneWayDelay: PT-0.001S (expected: >= 0 and <= 60 s)");
    assertThatThrownBy(() -> new LinkProfile(" ", 0, Duration.ZERO, Duration.ZERO))
        .hasMessage("name: ' ' (expected: non-blank)");
  }
}
