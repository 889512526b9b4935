package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LinkPathTest {
  @Test
  void parsesNamedPathsAndInfersTheirKind() {
    LinkPath tb = LinkPath.parse("tb=169.254.3.7:7420");
    assertThat(tb.name()).isEqualTo("tb");
    assertThat(tb.address().getPort()).isEqualTo(7420);
    assertThat(tb.kind()).isEqualTo(PathKind.THUNDERBOLT);
    assertThat(LinkPath.parse("wifi=192.168.1.20").address().getPort()).isEqualTo(LinkPath.DEFAULT_PORT);
    assertThat(LinkPath.parse("wifi=192.168.1.20").kind()).isEqualTo(PathKind.WIFI);
    assertThat(LinkPath.parse("x=127.0.0.3:1").kind()).isEqualTo(PathKind.LOOPBACK);
    assertThat(LinkPath.parse("bridge=10.0.0.1:1").kind()).isEqualTo(PathKind.THUNDERBOLT);
    assertThat(LinkPath.parse("eth=10.0.0.1:1,kind=wifi").kind()).isEqualTo(PathKind.WIFI);
    assertThat(LinkPath.parse("v6=[::1]:9").address().getPort()).isEqualTo(9);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "nopath|expected: NAME=ADDR[:PORT]",
        "=1.2.3.4|expected: NAME=ADDR[:PORT]",
        "tb=|expected: NAME=ADDR[:PORT]",
        "tb=1.2.3.4:99999|expected: a port 0-65535",
        "tb=1.2.3.4:abc|expected: a port 0-65535",
        "bad name=1.2.3.4|path name",
        "tb=1.2.3.4:1,speed=9|kind=thunderbolt",
        "tb=1.2.3.4:1,kind=carrier-pigeon|path kind: carrier-pigeon",
        "tb=[::1|expected: [IPv6]:PORT",
        "tb=no-such-host.invalid|unknown host"
      })
  void rejectsBadPathsNamingTheValue(String spec, String expected) {
    assertThatThrownBy(() -> LinkPath.parse(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(expected);
  }

  @Test
  void tuningProfileValidatesItsValues() {
    assertThatThrownBy(() -> new TuningProfile(PathKind.WIFI, -1, 0, 1, 2, 65535, true, 1, 1, 1))
        .hasMessage("sendBufferBytes: -1 (expected: >= 0)");
    assertThatThrownBy(() -> new TuningProfile(PathKind.WIFI, 0, 0, 10, 5, 65535, true, 1, 1, 1))
        .hasMessageContaining("writeBufferHighWaterMark: 5 (expected: >= 10");
    assertThatThrownBy(() -> new TuningProfile(PathKind.WIFI, 0, 0, 1, 2, 100, true, 1, 1, 1))
        .hasMessage("flowControlWindowBytes: 100 (expected: >= 65535)");
    for (PathKind k : PathKind.values()) {
      assertThat(TuningProfile.defaults(k).kind()).isEqualTo(k);
    }
  }

  @Test
  void transportNamesParseAndUnknownOnesExplainThemselves() {
    assertThat(TransportKind.parse("io-uring")).isEqualTo(TransportKind.IO_URING);
    assertThat(TransportKind.parse("EPOLL")).isEqualTo(TransportKind.EPOLL);
    assertThat(TransportFactory.select("auto").kind()).isIn(TransportKind.EPOLL, TransportKind.KQUEUE, TransportKind.NIO);
    assertThatThrownBy(() -> TransportFactory.select("carrier"))
        .hasMessage("transport: carrier (expected: auto, kqueue, epoll, io-uring or nio)");
  }

  @Test
  void pairingCodesNormaliseAsCrockfordAllows() {
    assertThat(PairingCodes.normalize("7kq2-m9xd")).isEqualTo("7KQ2M9XD");
    assertThat(PairingCodes.normalize("O1IL l")).isEqualTo("01111");
  }
}
