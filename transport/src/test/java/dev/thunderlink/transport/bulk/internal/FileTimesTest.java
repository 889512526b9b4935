package dev.thunderlink.transport.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Platform;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link FileTimes} on real files. */
class FileTimesTest {
  @TempDir Path dir;

  private static final FileTime MODIFIED = FileTime.from(Instant.parse("2020-09-13T12:26:40.123456789Z"));
  private static final FileTime ACCESSED = FileTime.from(Instant.parse("2021-01-02T03:04:05.5Z"));

  @Test
  void setsBothTimesOfAFile() throws Exception {
    Path f = Files.writeString(dir.resolve("f"), "x");
    FileTimes.set(f, MODIFIED, ACCESSED);
    BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
    assertThat(a.lastModifiedTime().toMillis()).isEqualTo(MODIFIED.toMillis());
    assertThat(a.lastAccessTime().toMillis()).isEqualTo(ACCESSED.toMillis());
  }

  /** On Linux one utimensat by path does it (no open and close of the file), to the nanosecond. */
  @Test
  void onLinuxOneNativeCallSetsTheTimes() throws Exception {
    Path f = Files.writeString(dir.resolve("native"), "x");
    assertThat(FileTimes.setNative(f, MODIFIED, ACCESSED)).isEqualTo(Platform.isLinux() && Platform.is64Bit());
    if (Platform.isLinux()) {
      assertThat(Files.getLastModifiedTime(f)).isEqualTo(MODIFIED);
    }
  }

  /** Links are not followed: a link's own times change, its target's do not. */
  @Test
  void theNativeCallDoesNotFollowALink() throws Exception {
    Path target = Files.writeString(dir.resolve("target"), "x");
    FileTime before = Files.getLastModifiedTime(target);
    Path link = Files.createSymbolicLink(dir.resolve("link"), target);
    if (FileTimes.setNative(link, MODIFIED, ACCESSED)) {
      assertThat(Files.getLastModifiedTime(link, LinkOption.NOFOLLOW_LINKS)).isEqualTo(MODIFIED);
      assertThat(Files.getLastModifiedTime(target)).isEqualTo(before);
    }
  }

  /** A missing file: the native call fails and the JDK's fallback says why. */
  @Test
  void aMissingFileFailsWithTheJdksReason() {
    Path missing = dir.resolve("missing");
    assertThat(FileTimes.setNative(missing, MODIFIED, ACCESSED)).isFalse();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> FileTimes.set(missing, MODIFIED, ACCESSED))
        .isInstanceOf(java.nio.file.NoSuchFileException.class);
  }
}
