package dev.thunderlink.sync.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * A synced tree as tests compare it: each path (NFC) to {@code dir}, {@code link:TARGET} or the
 * file's content, with {@code +x:} before an executable file's, never through the daemon's
 * temporary files. Shared with the daemon module's tests (this package is the sync test-jar).
 */
public final class Trees {
  private Trees() {}

  /** The daemon's temporary files ({@code IgnoreRules.TEMP_PREFIX}): never synced, and they come and go. */
  public static boolean isTemp(Path p) {
    return p.getFileName() != null && p.getFileName().toString().startsWith(".thunderlink-tmp-");
  }

  /**
   * Every path under {@code root}, root first, parents before children, like {@link Files#walk}
   * but never through the daemon's temporary files, and without failing when an entry vanishes
   * between the listing and its stat: a temporary file always may (the daemon renames it into
   * place), other entries only if {@code anyMayVanish} (the other side's sync is changing the
   * tree). {@code Files.walk} threw an UncheckedIOException for the first of these.
   */
  public static java.util.List<Path> walk(Path root, boolean anyMayVanish) throws IOException {
    java.util.List<Path> out = new java.util.ArrayList<>();
    Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
      @Override
      public java.nio.file.FileVisitResult preVisitDirectory(Path dir, java.nio.file.attribute.BasicFileAttributes a) {
        if (isTemp(dir)) {
          return java.nio.file.FileVisitResult.SKIP_SUBTREE;
        }
        out.add(dir);
        return java.nio.file.FileVisitResult.CONTINUE;
      }

      @Override
      public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes a) {
        if (!isTemp(file)) {
          out.add(file);
        }
        return java.nio.file.FileVisitResult.CONTINUE;
      }

      @Override
      public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof java.nio.file.NoSuchFileException && (anyMayVanish || isTemp(file)) && !file.equals(root)) {
          return java.nio.file.FileVisitResult.CONTINUE;
        }
        throw e;
      }

      @Override
      public java.nio.file.FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        if (e != null && !(anyMayVanish && e instanceof java.nio.file.NoSuchFileException)) {
          throw e;
        }
        return java.nio.file.FileVisitResult.CONTINUE;
      }
    });
    return out;
  }

  public static Map<String, String> snapshot(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    for (Path p : walk(root, false)) {
      if (p.equals(root)) {
        continue;
      }
      String rel = java.text.Normalizer.normalize(root.relativize(p).toString(), java.text.Normalizer.Form.NFC);
      if (Files.isSymbolicLink(p)) {
        out.put(rel, "link:" + Files.readSymbolicLink(p));
      } else if (Files.isDirectory(p)) {
        out.put(rel, "dir");
      } else {
        String x = "";
        try {
          x = Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE)
              ? "+x:" : "";
        } catch (UnsupportedOperationException ignored) {
          // no posix view
        }
        out.put(rel, x + new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    return out;
  }
}
