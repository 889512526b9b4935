package dev.thunderlink.transport.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.transport.bulk.BulkException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the host reads the path a peer names: absolute, relative to the first root, or ~/ in the host user's home. */
class PermittedRootsTest {
  @TempDir Path tmp;

  /**
   * {@code thunderlink cp f host:~/x} (a shell leaves {@code ~} after {@code host:} alone, as for
   * scp) made a directory named {@code ~} in the first root; {@code ~} is the host user's home.
   */
  @Test
  void aTildeIsTheHostUsersHome() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    Path home = Files.createDirectories(root.resolve("me"));
    PermittedRoots roots = new PermittedRoots(List.of(root), home);
    assertThat(roots.resolve("~/notes/a.txt")).isEqualTo(home.resolve("notes/a.txt"));
    assertThat(roots.resolve("~")).isEqualTo(home);
    assertThat(roots.resolve("rel/a.txt")).isEqualTo(root.resolve("rel/a.txt"));
    assertThat(roots.resolve("./~/a.txt")).as("a name ~ that is not first").isEqualTo(root.resolve("~/a.txt"));
    assertThatThrownBy(() -> roots.resolve("~bob/a.txt")).isInstanceOf(BulkException.class)
        .hasMessage("path: '~bob/a.txt' (expected: ~/PATH for the host user's home; ~USER is not supported)");
    // a home outside the permitted roots is refused like any other path there
    PermittedRoots elsewhere = new PermittedRoots(List.of(root), tmp.resolve("other-home"));
    assertThatThrownBy(() -> elsewhere.resolve("~/a.txt")).isInstanceOf(BulkException.class)
        .hasMessage("path " + tmp.resolve("other-home/a.txt") + " is outside the permitted roots [" + root + "] of the host");
  }
}
