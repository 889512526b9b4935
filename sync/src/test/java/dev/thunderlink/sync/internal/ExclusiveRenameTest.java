package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** {@link ExclusiveRename} on the real file system (and its refusal of any other). */
class ExclusiveRenameTest {
  @TempDir Path dir;

  @Test
  @EnabledOnOs({OS.LINUX, OS.MAC})
  void renamesOntoAFreeNameAndLeavesBothAloneWhenSomethingIsThere() throws Exception {
    Path from = Files.writeString(dir.resolve(".tmp"), "new");
    Path to = dir.resolve("f.txt");
    assertThat(ExclusiveRename.rename(from, to)).isEqualTo(ExclusiveRename.Result.RENAMED);
    assertThat(to).hasContent("new");
    assertThat(from).doesNotExist();

    Path again = Files.writeString(dir.resolve(".tmp2"), "newer");
    assertThat(ExclusiveRename.rename(again, to)).isEqualTo(ExclusiveRename.Result.EXISTS);
    assertThat(to).hasContent("new");
    assertThat(again).hasContent("newer");

    Path link = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nowhere"));
    assertThat(ExclusiveRename.rename(again, link)).as("a dangling link is something").isEqualTo(ExclusiveRename.Result.EXISTS);
    Files.createDirectory(dir.resolve("d"));
    assertThat(ExclusiveRename.rename(again, dir.resolve("d"))).isEqualTo(ExclusiveRename.Result.EXISTS);
    assertThat(dir.resolve("d")).isEmptyDirectory();
  }

  @Test
  @EnabledOnOs({OS.LINUX, OS.MAC})
  void aMissingSourceOrDirectoryIsNoSuchFileAndANonDirectoryOnTheWayIsNamedSo() throws Exception {
    Path from = Files.writeString(dir.resolve(".tmp"), "new");
    assertThatThrownBy(() -> ExclusiveRename.rename(dir.resolve("absent"), dir.resolve("x")))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> ExclusiveRename.rename(from, dir.resolve("no/such/dir/x")))
        .isInstanceOf(NoSuchFileException.class);
    Files.writeString(dir.resolve("file"), "f");
    assertThatThrownBy(() -> ExclusiveRename.rename(from, dir.resolve("file/x")))
        .isInstanceOfSatisfying(java.nio.file.FileSystemException.class,
            e -> assertThat(e.getReason()).isEqualTo("Not a directory"));
    assertThat(from).hasContent("new");
  }

  @Test
  void filesOfAnotherFileSystemAreLeftToTheCaller() throws Exception {
    try (FileSystem jimfs = com.google.common.jimfs.Jimfs.newFileSystem(com.google.common.jimfs.Configuration.unix())) {
      Path from = Files.writeString(jimfs.getPath("/a"), "x");
      assertThat(ExclusiveRename.available(from)).isFalse();
      assertThat(ExclusiveRename.rename(from, jimfs.getPath("/b"))).isEqualTo(ExclusiveRename.Result.UNSUPPORTED);
      assertThat(from).exists();
    }
  }
}
