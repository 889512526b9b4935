package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link UnixAttributes} against the "unix:" view it replaces: the same mode, device, inode and
 * ctime, so an index written with either matches stats taken with the other (surefire opens
 * sun.nio.fs as the daemon jar's manifest does).
 */
class UnixAttributesTest {
  @TempDir Path dir;

  @Test
  @EnabledOnOs({OS.LINUX, OS.MAC})
  void readsWhatTheUnixViewReadsFromTheStatAlreadyTaken() throws Exception {
    assertThat(UnixAttributes.available()).as("sun.nio.fs opened to the tests").isTrue();
    Path plain = Files.writeString(dir.resolve("plain.txt"), "hello");
    Path exec = Files.writeString(dir.resolve("tool"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(exec, PosixFilePermissions.fromString("rwxr-x---"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), plain);
    for (Path p : new Path[] {plain, exec, link, dir}) {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      Map<String, Object> m = Files.readAttributes(p, "unix:mode,dev,ino,ctime", LinkOption.NOFOLLOW_LINKS);
      assertThat(UnixAttributes.readable(a)).as(p.toString()).isTrue();
      UnixAttributes.Stat u = UnixAttributes.of(a);
      assertThat(u.mode()).as(p + " mode").isEqualTo(m.get("mode"));
      assertThat(u.dev()).as(p + " dev").isEqualTo(m.get("dev"));
      assertThat(u.ino()).as(p + " ino").isEqualTo(m.get("ino"));
      assertThat(u.ctime()).as(p + " ctime").isEqualTo(m.get("ctime"));
      // the index's stat key, built either way
      assertThat(DiskEndpoint.unixKey(u.dev(), u.ino(), u.ctime().to(TimeUnit.NANOSECONDS)))
          .isEqualTo(m.get("dev") + ":" + m.get("ino") + ":" + ((FileTime) m.get("ctime")).to(TimeUnit.NANOSECONDS));
    }
    BasicFileAttributes e = Files.readAttributes(exec, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    assertThat(UnixAttributes.of(e).ownerExecute()).isTrue();
    assertThat(UnixAttributes.of(Files.readAttributes(plain, BasicFileAttributes.class)).ownerExecute()).isFalse();
  }

  @Test
  void attributesOfAnotherFileSystemAreNotRead() throws Exception {
    try (var jimfs = com.google.common.jimfs.Jimfs.newFileSystem(com.google.common.jimfs.Configuration.unix())) {
      Path p = Files.writeString(jimfs.getPath("/a"), "x");
      assertThat(UnixAttributes.readable(Files.readAttributes(p, BasicFileAttributes.class))).isFalse();
    }
  }
}
