package dev.thunderlink.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MainTest {
  private String jfr;
  private String level;

  @BeforeEach
  void save() {
    jfr = System.getProperty("io.netty.jfr.enabled");
    level = System.getProperty("thunderlink.log.level");
  }

  @AfterEach
  void restore() {
    put("io.netty.jfr.enabled", jfr);
    put("thunderlink.log.level", level);
  }

  private static void put(String k, String v) {
    if (v == null) {
      System.clearProperty(k);
    } else {
      System.setProperty(k, v);
    }
  }

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
