package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.methvin.watcher.visitor.FileTreeVisitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The watcher's walk that skips the stat of what cannot be a directory, on the real file system. */
class LeafWalkTest {
  @TempDir
  Path root;

  private record Seen(Set<Path> directories, Set<Path> files) {}

  private static Seen walk(FileTreeVisitor v, Path start) throws Exception {
    Set<Path> dirs = new TreeSet<>();
    Set<Path> files = new TreeSet<>();
    v.recursiveVisitFiles(start, dirs::add, files::add);
    return new Seen(dirs, files);
  }

  private void tree() throws Exception {
    Files.createDirectories(root.resolve("a/b/c"));
    Files.createDirectories(root.resolve("a/empty"));
    Files.createDirectories(root.resolve("d"));
    for (int i = 0; i < 50; i++) {
      Files.writeString(root.resolve((i % 3 == 0 ? "a/" : i % 3 == 1 ? "a/b/c/" : "d/") + "f" + i + ".txt"), "x" + i);
    }
    Files.createSymbolicLink(root.resolve("a/link-to-dir"), root.resolve("d")); // a link: a file, never followed
    Files.createSymbolicLink(root.resolve("d/link-to-file"), root.resolve("d/f2.txt"));
    Files.createSymbolicLink(root.resolve("dangling"), root.resolve("nowhere"));
  }

  @Test
  void itReportsWhatTheLibrarysWalkReports() throws Exception {
    tree();
    if (System.getProperty("os.name").startsWith("Linux")) { // ext4 or tmpfs here: the counted walk is the one tested
      assertThat(LeafWalk.COUNTING).as("this machine's temp file system counts subdirectories")
          .contains(Files.getFileStore(root).type());
    }

    Seen ours = walk(new LeafWalk(), root);

    Seen library = walk(FileTreeVisitor.DEFAULT_FILE_TREE_VISITOR, root);
    assertThat(ours).isEqualTo(library);
    assertThat(ours.directories()).contains(root, root.resolve("a/b/c"), root.resolve("a/empty")).hasSize(6);
    assertThat(ours.files()).contains(root.resolve("a/link-to-dir"), root.resolve("dangling")).hasSize(53);
    // a start that is not a directory is itself the one file; one that is gone, nothing
    assertThat(walk(new LeafWalk(), root.resolve("d/f2.txt")).files()).containsExactly(root.resolve("d/f2.txt"));
    assertThat(walk(new LeafWalk(), root.resolve("gone"))).isEqualTo(new Seen(Set.of(), Set.of()));
  }

  /** A callback's failure (registering a directory when inotify has no watches left) reaches the caller, as from the library's walk. */
  @Test
  void aCallbacksFailureReachesTheCaller() throws Exception {
    tree();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LeafWalk().recursiveVisitFiles(root, d -> {
      if (d.endsWith("c")) {
        throw new java.io.IOException("no inotify watches left");
      }
    }, f -> { })).hasMessage("no inotify watches left");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LeafWalk().recursiveVisitFiles(root, d -> { }, f -> {
      throw new java.io.IOException("cannot report " + f.getFileName());
    })).hasMessageStartingWith("cannot report");
  }

  /**
   * A leaf directory's count says "no subdirectories", so none of its entries would be looked
   * at; two made between the count and the listing change the count, and every entry is looked
   * at after all: they are reported as the directories they are, and walked.
   */
  @Test
  void subdirectoriesMadeWhileADirectoryIsListedAreStillDirectories() throws Exception {
    tree();
    Path leaf = root.resolve("a/b/c");
    List<Path> counted = new ArrayList<>();
    LeafWalk walk = new LeafWalk(dir -> {
      counted.add(dir);
      if (dir.equals(leaf)) {
        try {
          Files.createDirectories(leaf.resolve("late/inner"));
          Files.createDirectories(leaf.resolve("late2"));
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    });

    Seen ours = walk(walk, root);

    assertThat(counted).contains(leaf);
    assertThat(ours.directories()).contains(leaf.resolve("late"), leaf.resolve("late/inner"), leaf.resolve("late2"));
    assertThat(ours.files()).noneMatch(p -> p.startsWith(leaf.resolve("late")) || p.equals(leaf.resolve("late2")));
    assertThat(ours).isEqualTo(walk(FileTreeVisitor.DEFAULT_FILE_TREE_VISITOR, root));
  }
}
