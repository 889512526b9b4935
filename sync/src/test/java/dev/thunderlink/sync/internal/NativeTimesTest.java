package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeTimesTest {
  @TempDir
  Path tmp;

  private static BasicFileAttributes own(Path p) throws Exception {
    return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
  }

  @Test
  void setsTheModificationTimeToTheNanosecondAndLeavesTheAccessTime() throws Exception {
    Path f = Files.writeString(tmp.resolve("f.txt"), "x");
    FileTime atime = FileTime.from(Instant.parse("2020-01-02T03:04:05.123456789Z"));
    Files.getFileAttributeView(f, java.nio.file.attribute.BasicFileAttributeView.class).setTimes(null, atime, null);
    FileTime mtime = FileTime.from(Instant.parse("2021-06-07T08:09:10.987654321Z"));
    NativeTimes.setModified(f, mtime);
    assertThat(own(f).lastModifiedTime()).isEqualTo(mtime);
    assertThat(own(f).lastAccessTime()).as("left as it was").isEqualTo(atime);
  }

  /** A link put where a file was: its own time changes, never its target's (which may be outside the root). */
  @Test
  void setsALinksOwnTimeNotItsTargets() throws Exception {
    Path target = Files.writeString(tmp.resolve("outside.txt"), "x");
    FileTime before = own(target).lastModifiedTime();
    Path link = Files.createSymbolicLink(tmp.resolve("link"), target);
    FileTime mtime = FileTime.fromMillis(1_600_000_000_000L);
    NativeTimes.setModified(link, mtime);
    assertThat(own(link).lastModifiedTime()).isEqualTo(mtime);
    assertThat(own(target).lastModifiedTime()).isEqualTo(before);
  }

  @Test
  void aMissingFileIsNoSuchFileAndAnotherFileSystemGoesThroughTheJdk() throws Exception {
    assertThatThrownBy(() -> NativeTimes.setModified(tmp.resolve("gone"), FileTime.fromMillis(1000)))
        .isInstanceOf(NoSuchFileException.class).hasMessageContaining("gone");
    try (FileSystem fs = Jimfs.newFileSystem(Configuration.unix())) {
      Path f = Files.writeString(fs.getPath("/f"), "x");
      FileTime mtime = FileTime.fromMillis(1_600_000_000_000L);
      NativeTimes.setModified(f, mtime);
      assertThat(Files.getLastModifiedTime(f)).isEqualTo(mtime);
    }
  }

  /** Any other failure of the one call goes the JDK's way, whose exception says what is wrong. */
  @Test
  void anotherFailureIsTheJdksInItsWords() throws Exception {
    Path file = Files.writeString(tmp.resolve("file"), "x");
    assertThatThrownBy(() -> NativeTimes.setModified(file.resolve("below"), FileTime.fromMillis(1000)))
        .isInstanceOf(java.nio.file.FileSystemException.class).hasMessageContaining("Not a directory")
        .hasMessageContaining("file/below");
  }
}
