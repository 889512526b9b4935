package dev.thunderlink.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The demo's "try, in another terminal" lines name the launcher as the user can run it from where they are. */
class DemoHintsTest {
  @Test
  void theLauncherIsNamedRelativeToTheCheckoutAbsoluteElsewhereAndPlainWithoutIt() {
    assertThat(DemoCommand.launcher("/src/thunderlink/thunderlink", Path.of("/src/thunderlink"))).isEqualTo("./thunderlink");
    assertThat(DemoCommand.launcher("/src/thunderlink/thunderlink", Path.of("/src"))).isEqualTo("./thunderlink/thunderlink");
    assertThat(DemoCommand.launcher("/src/thunderlink/thunderlink", Path.of("/tmp/demo"))).isEqualTo("/src/thunderlink/thunderlink");
    assertThat(DemoCommand.launcher("/src/thunderlink/../thunderlink/thunderlink", Path.of("/tmp"))).isEqualTo("/src/thunderlink/thunderlink");
    assertThat(DemoCommand.launcher(null, Path.of("/tmp"))).isEqualTo("thunderlink");
  }
}
