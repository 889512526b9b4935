package dev.thunderlink.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RestoreSystemProperties.class)
class MainTest {
  @Test
  void nettysFlightRecorderEventsAreOffAndTheLogLevelFollowsTheCommand() {
    System.clearProperty("io.netty.jfr.enabled");
    System.clearProperty("thunderlink.log.level");
    Main.systemDefaults(false);
    assertThat(System.getProperty("io.netty.jfr.enabled")).isEqualTo("false");
    assertThat(System.getProperty("thunderlink.log.level")).isEqualTo("WARN");
    System.clearProperty("thunderlink.log.level");
    Main.systemDefaults(true);
    assertThat(System.getProperty("thunderlink.log.level")).isEqualTo("INFO");
  }

  @Test
  void whatTheUserSetWins() {
    System.setProperty("io.netty.jfr.enabled", "true");
    System.setProperty("thunderlink.log.level", "DEBUG");
    Main.systemDefaults(false);
    assertThat(System.getProperty("io.netty.jfr.enabled")).isEqualTo("true");
    assertThat(System.getProperty("thunderlink.log.level")).isEqualTo("DEBUG");
  }
}
