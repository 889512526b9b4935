package dev.thunderlink.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A case-sensitive, non-normalising Linux side (the real file system here) mirrored with a
 * macOS-like side (Jimfs osX: case-insensitive, NFD-normalising).
 */
class FileSystemSemanticsTest {
  @TempDir
  Path tmp;

  private static final String NFC = "caf\u00e9.txt";
  private static final String NFD = "cafe\u0301.txt";

  private SyncSession open(Path linux, Path mac) throws Exception {
    SyncSessionConfig c = SyncSessionConfig.builder("fs").localRoot(linux).remoteRoot(mac.toString())
        .stateDir(tmp.resolve("state")).deviceName("linux").watch(false).build();
    return SyncSession.startLocal(c, mac, "mac");
  }

  @Test
  void namesDifferingOnlyInCaseBecomeAReportedConflictNotAMerge() throws Exception {
    Path linux = Files.createDirectories(tmp.resolve("linux"));
    // written before the session starts, so its first scan sees both names at once
    Files.write(linux.resolve("Readme.md"), "upper".getBytes(UTF_8));
    Files.write(linux.resolve("readme.md"), "lower".getBytes(UTF_8));
    Files.write(linux.resolve("other.txt"), "x".getBytes(UTF_8));
    try (FileSystem fs = SyncPair.macJimfs(); SyncSession s = open(linux, Files.createDirectories(fs.getPath("/m")))) {
      Path mac = fs.getPath("/m");
      s.flush(Duration.ofSeconds(30));
      // neither name is silently merged into the other on the case-insensitive side
      assertThat(SyncPair.tree(mac)).isEqualTo(Map.of("other.txt", "x"));
      assertThat(s.status().collisions()).singleElement().asString().contains("Readme.md").contains("readme.md");
      assertThat(s.conflicts()).singleElement().satisfies(c -> assertThat(c.reason()).contains("name collision"));
      // the Linux side keeps both, untouched
      assertThat(SyncPair.tree(linux)).containsEntry("Readme.md", "upper").containsEntry("readme.md", "lower");
    }
  }

  @Test
  void caseOnlyRenameOnTheCaseInsensitiveSideIsMirrored() throws Exception {
    Path linux = Files.createDirectories(tmp.resolve("linux"));
    try (FileSystem fs = SyncPair.macJimfs(); SyncSession s = open(linux, Files.createDirectories(fs.getPath("/m")))) {
      Path mac = fs.getPath("/m");
      Files.write(mac.resolve("notes.txt"), "n".getBytes(UTF_8));
      s.flush(Duration.ofSeconds(30));
      // Jimfs treats a case-only move as a no-op; go through another name as Finder-like tools may
      Files.move(mac.resolve("notes.txt"), mac.resolve("tmp-name"));
      Files.move(mac.resolve("tmp-name"), mac.resolve("Notes.txt"));
      assertThat(SyncPair.tree(mac)).isEqualTo(Map.of("Notes.txt", "n"));
      s.flush(Duration.ofSeconds(30));
      assertThat(SyncPair.tree(linux)).isEqualTo(Map.of("Notes.txt", "n"));
      Files.move(linux.resolve("Notes.txt"), linux.resolve("NOTES.txt"));
      s.flush(Duration.ofSeconds(30));
      assertThat(SyncPair.tree(mac)).isEqualTo(Map.of("NOTES.txt", "n"));
      assertThat(s.status().errors()).isEmpty();
    }
  }

  @Test
  void namesTravelInNfcAndAnNfdNameIsUpdatedInPlace() throws Exception {
    Path linux = Files.createDirectories(tmp.resolve("linux"));
    try (FileSystem fs = SyncPair.macJimfs(); SyncSession s = open(linux, Files.createDirectories(fs.getPath("/m")))) {
      Path mac = fs.getPath("/m");
      Files.write(linux.resolve(NFD), "decomposed on linux".getBytes(UTF_8));
      s.flush(Duration.ofSeconds(30));
      assertThat(SyncPair.tree(mac)).isEqualTo(Map.of(NFC, "decomposed on linux"));
      Files.write(mac.resolve(NFC), "edited on mac".getBytes(UTF_8));
      s.flush(Duration.ofSeconds(30));
      // the Linux file keeps its on-disk (NFD) name; no NFC twin appears beside it
      try (var list = Files.list(linux)) {
        assertThat(list.map(p -> p.getFileName().toString()).toList()).containsExactly(NFD);
      }
      assertThat(new String(Files.readAllBytes(linux.resolve(NFD)), UTF_8)).isEqualTo("edited on mac");
    }
  }

  @Test
  void twoNamesWithOneNfcFormAreAReportedCollision() throws Exception {
    Path linux = Files.createDirectories(tmp.resolve("linux"));
    Files.write(linux.resolve(NFC), "composed".getBytes(UTF_8));
    Files.write(linux.resolve(NFD), "decomposed".getBytes(UTF_8));
    try (FileSystem fs = SyncPair.macJimfs(); SyncSession s = open(linux, Files.createDirectories(fs.getPath("/m")))) {
      s.flush(Duration.ofSeconds(30));
      assertThat(SyncPair.tree(fs.getPath("/m"))).isEmpty();
      assertThat(s.status().collisions()).containsExactly("linux:" + Normalizer.normalize(NFC, Normalizer.Form.NFC));
    }
  }
}
