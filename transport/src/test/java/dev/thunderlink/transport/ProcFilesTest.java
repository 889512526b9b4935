package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** /proc/sys files read whole, as `cat` reads them (Files.readString gets their first byte only). */
class ProcFilesTest {
  static String cat(String file) throws Exception {
    Process p = new ProcessBuilder("cat", file).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
    assertThat(p.waitFor()).isZero();
    return out;
  }

  @Test
  void readsSysctlFilesWholeAsCatDoes() throws Exception {
    Path rmem = Path.of("/proc/sys/net/core/rmem_max");
    assumeTrue(Files.exists(rmem), "Linux only");
    assertThat(ProcFiles.read(rmem)).isEqualTo(cat(rmem.toString()));
    assertThat(ProcFiles.readLong(rmem)).isEqualTo(Long.parseLong(cat(rmem.toString())));
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    assertThat(ProcFiles.read(range)).isEqualTo(cat(range.toString())).contains("\t");
  }

  @Test
  void aMissingFileOrOneWithoutANumberIsMinusOne(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    assertThat(ProcFiles.readLong(tmp.resolve("absent"))).isEqualTo(-1);
    assertThat(ProcFiles.readLong(Files.writeString(tmp.resolve("text"), "many\n"))).isEqualTo(-1);
    assertThat(ProcFiles.readLong(Files.writeString(tmp.resolve("n"), " 16777216\n"))).isEqualTo(16_777_216);
  }
}
