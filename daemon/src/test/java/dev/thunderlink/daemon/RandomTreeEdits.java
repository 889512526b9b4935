package dev.thunderlink.daemon;

import dev.thunderlink.sync.testing.Trees;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A seeded random editor of one side's tree, for the two-daemon randomized test: writes, appends,
 * deletes, renames, folders, {@code chmod +x} and relative symlinks, under a few names so that the
 * two sides collide. Every content it writes is unique ({@code TAG-N}). Its view of a tree
 * ({@link #tree}) maps each path to {@code dir}, {@code link:TARGET} or the file's content, with
 * {@code +x:} before an executable file's.
 */
final class RandomTreeEdits {
  private static final String[] DIRS = {"", "d0", "d1", "d0/e"};
  private static final String[] NAMES = {"f0.txt", "f1.txt", "f2.txt"};

  private final Path root;
  private final String tag;
  private final Random rnd;
  private int counter;

  RandomTreeEdits(Path root, String tag, long seed) {
    this.root = root;
    this.tag = tag;
    this.rnd = new Random(seed);
  }

  /** Runs {@code n} random edits; a step that races the daemon's own writes is skipped. */
  void run(int n) throws IOException {
    for (int i = 0; i < n; i++) {
      try {
        step();
      } catch (NoSuchFileException | FileAlreadyExistsException | DirectoryNotEmptyException e) {
        // the daemon moved something under this step (an apply, a conflict copy): skip it
      }
    }
  }

  private Path file() {
    String dir = DIRS[rnd.nextInt(DIRS.length)];
    return root.resolve(dir.isEmpty() ? NAMES[rnd.nextInt(NAMES.length)] : dir + "/" + NAMES[rnd.nextInt(NAMES.length)]);
  }

  private String content() {
    return tag + "-" + counter++;
  }

  private void step() throws IOException {
    Path f = file();
    switch (rnd.nextInt(8)) {
      case 0, 1 -> { // write (create or overwrite)
        Files.createDirectories(f.getParent());
        Files.writeString(f, content());
      }
      case 2 -> { // append
        if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
          Files.writeString(f, "+" + content(), StandardOpenOption.APPEND);
        }
      }
      case 3 -> Files.deleteIfExists(f);
      case 4 -> { // rename to another name, perhaps in another folder
        Path to = file();
        if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) && !Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectories(to.getParent());
          Files.move(f, to);
        }
      }
      case 5 -> { // chmod +x
        if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
          Set<PosixFilePermission> p = Files.getPosixFilePermissions(f);
          p.add(PosixFilePermission.OWNER_EXECUTE);
          Files.setPosixFilePermissions(f, p);
        }
      }
      case 6 -> { // a relative symlink beside the file
        Path link = f.resolveSibling("l" + rnd.nextInt(2));
        if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS) && Files.isDirectory(f.getParent())) {
          Files.createSymbolicLink(link, f.getFileName());
        }
      }
      default -> { // remove a folder with all it holds, or make an empty one
        String dir = DIRS[1 + rnd.nextInt(DIRS.length - 1)];
        Path d = root.resolve(dir);
        if (rnd.nextBoolean() && Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
          deleteTree(d);
        } else {
          Files.createDirectories(d.resolve("m" + rnd.nextInt(2)));
        }
      }
    }
  }

  private static void deleteTree(Path d) throws IOException {
    List<Path> all = Trees.walk(d, true); // parents first; what the daemon moves meanwhile is skipped
    for (int i = all.size() - 1; i >= 0; i--) {
      Files.deleteIfExists(all.get(i));
    }
  }

  /** The tree as the test compares it ({@link Trees#snapshot}: without the daemon's temporary files). */
  static Map<String, String> tree(Path root) throws IOException {
    return Trees.snapshot(root);
  }
}
