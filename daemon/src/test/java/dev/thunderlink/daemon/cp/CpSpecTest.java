package dev.thunderlink.daemon.cp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpSpecTest {
  @Test
  void pushAndPullAreToldApartByTheHostPrefix() {
    assertThat(CpSpec.parse(List.of("a", "b", "host:/srv/x"))).isEqualTo(new CpSpec(true, List.of("a", "b"), "/srv/x"));
    assertThat(CpSpec.parse(List.of("host:models/m.gguf", "."))).isEqualTo(new CpSpec(false, List.of("models/m.gguf"), "."));
  }

  @Test
  void badOperandsGetOneLineReasons() {
    assertThatThrownBy(() -> CpSpec.parse(List.of("a")))
        .hasMessage("cp: 1 operand(s) (expected: LOCAL... host:PATH or host:PATH LOCAL)");
    assertThatThrownBy(() -> CpSpec.parse(List.of("a", "b")))
        .hasMessage("cp: no operand names the host (expected: LOCAL... host:PATH or host:PATH LOCAL)");
    assertThatThrownBy(() -> CpSpec.parse(List.of("host:a", "host:b")))
        .hasMessage("cp: host-to-host copies are not supported (expected: exactly one side on the host)");
    assertThatThrownBy(() -> CpSpec.parse(List.of("host:a", "host:b", "c")))
        .hasMessage("cp: 2 host sources (expected: one host:PATH when copying from the host)");
    assertThatThrownBy(() -> CpSpec.parse(List.of("a", "host:")))
        .hasMessage("cp: host: (expected: host:PATH with a path)");
  }
}
