package dev.thunderlink.transport.bulk.internal;

import dev.thunderlink.transport.bulk.BulkException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.nio.file.LinkOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The directories a peer may read and write on this host. A path is allowed when it lies
 * under a root both as written (after normalizing {@code ..}) and after resolving the
 * symbolic links of its deepest existing ancestor, so neither {@code ../..} nor a symlink
 * planted inside a root leads out. Relative paths are taken from the first root; {@code ~} and
 * {@code ~/PATH} from the host user's home.
 *
 * <p>Thread-safe; the roots are immutable, real paths of directories are cached for a second.
 */
public final class PermittedRoots {
  private final List<Path> roots;
  private final Path home;

  /** With the host user's home ({@code user.home}) for paths written {@code ~/...}. */
  public PermittedRoots(List<Path> roots) {
    this(roots, Path.of(System.getProperty("user.home")));
  }

  /** As above, {@code ~} meaning {@code home}. */
  public PermittedRoots(List<Path> roots, Path home) {
    this.roots = List.copyOf(roots);
    this.home = home;
  }

  public List<Path> roots() {
    return roots;
  }

  /** The allowed absolute path for {@code requested}, or a one-line refusal. */
  public Path resolve(String requested) throws BulkException {
    return target(requested).path();
  }

  /**
   * An allowed path and whether anything was there when {@link #target} looked ({@link
   * Files#exists}: links followed). A link to nothing counts as nothing: what comes to be there
   * (a file renamed in, a link replacing it) is in the path's directory, and the bulk plane
   * never writes through a link. Always false from {@link #destination}, which does not look.
   */
  public record Target(Path path, boolean exists) {}

  /** As {@link #resolve}, with whether the path exists (so a caller need not look again). */
  public Target target(String requested) throws BulkException {
    Path abs = absolute(requested);
    // access(2), which costs no exception when nothing is there (an lstat of the missing file
    // threw and filled a stack trace once per file of a push of new files)
    return allowed(abs, Files.exists(abs));
  }

  /**
   * Where a received file may be installed: as {@link #target}, but judged by its directory's
   * real path only, without looking at the name itself ({@link Target#exists} false). What is
   * there is replaced by the receiver's rename and never written through: a link (to anything,
   * inside the roots or out) is replaced by the file, a directory fails the rename. Looking cost
   * an access(2) per file, a sixth of installing a small one (20,000 new files, tmpfs: 0.57 vs
   * 0.48 CPU-s for the system calls of the install).
   */
  public Target destination(String requested) throws BulkException {
    return allowed(absolute(requested), false);
  }

  private Path absolute(String requested) throws BulkException {
    if (requested == null || requested.isEmpty() || requested.indexOf('\0') >= 0) {
      throw new BulkException("path: '" + requested + "' (expected: a file path)", false);
    }
    if (roots.isEmpty()) {
      throw new BulkException(
          "path " + requested + " refused: no permitted roots are configured on the host (set bulk.permittedRoots)", false);
    }
    if (requested.startsWith("~") && !requested.equals("~") && !requested.startsWith("~/")) {
      throw new BulkException("path: '" + requested + "' (expected: ~/PATH for the host user's home; ~USER is not"
          + " supported)", false);
    }
    Path p;
    try {
      // ~ is the host user's home, as in scp (a shell leaves host:~/x alone)
      p = requested.equals("~") ? home : requested.startsWith("~/") ? home.resolve(requested.substring(2))
          : Path.of(requested);
    } catch (RuntimeException e) {
      throw new BulkException("path: '" + requested + "' (expected: a valid file path)", false);
    }
    return (p.isAbsolute() ? p : roots.get(0).resolve(p)).normalize();
  }

  private Target allowed(Path abs, boolean exists) throws BulkException {
    for (Path root : roots) {
      if (abs.startsWith(root) && realUnder(abs, root, exists)) {
        return new Target(abs, exists);
      }
    }
    throw new BulkException(
        "path " + abs + " is outside the permitted roots " + roots + " of the host", false);
  }

  /**
   * Checks that a link at {@code link} (already resolved by {@link #resolve}) with a relative
   * {@code target} points under a root both as written and from its directory's real path.
   */
  public void checkLinkTarget(Path link, String target) throws BulkException {
    String form = Symlinks.formError(target);
    String refused = "symbolic link " + link + " -> " + target + " refused: ";
    if (form != null) {
      throw new BulkException(refused + form, false);
    }
    Path lexical = link.getParent().resolve(target).normalize();
    try {
      resolve(lexical.toString());
    } catch (BulkException e) {
      throw new BulkException(refused + "its target leads outside the permitted roots " + roots + " of the host", false);
    }
    try {
      Path real = link.getParent().toRealPath().resolve(target).normalize();
      for (Path root : roots) {
        Path realRoot = Files.exists(root) ? root.toRealPath() : root;
        if ((real.startsWith(realRoot) || real.startsWith(root)) && realUnder(real, root, true)) {
          return;
        }
      }
    } catch (IOException e) {
      throw new BulkException(refused + "cannot resolve " + link.getParent() + ": " + e.getMessage(), false);
    }
    throw new BulkException(refused + "its target leads outside the permitted roots " + roots + " of the host", false);
  }

  /** {@code exists} false: nothing (or a link to nothing) is at {@code abs}, no need to look. */
  private boolean realUnder(Path abs, Path root, boolean exists) {
    try {
      Path realRoot = root;
      Cached c = realDirs.get(root);
      if (c != null && System.nanoTime() - c.at < REAL_PATH_TTL_NANOS) {
        realRoot = c.real;
      } else if (Files.exists(root)) {
        realRoot = realDirectory(root);
      }
      Path real;
      BasicFileAttributes a = exists ? attributes(abs) : null;
      if (a != null && a.isSymbolicLink()) {
        real = abs.toRealPath(); // never cached: a link is judged by its target, every time
      } else if (a != null && a.isDirectory()) {
        real = realDirectory(abs);
      } else {
        // a file, nothing yet or a link to nothing: its real place is its directory's (or the
        // deepest existing ancestor's)
        Path dir = abs.getParent();
        real = dir == null ? null : realDirectory(dir);
      }
      return real != null && (real.startsWith(realRoot) || real.startsWith(root));
    } catch (IOException e) {
      return false;
    }
  }

  private static BasicFileAttributes attributes(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * The real path of a directory, or of its deepest existing ancestor; null if none exists.
   * Remembered for {@link #REAL_PATH_TTL_NANOS}: a tree of many files in few directories then
   * costs one {@code realpath} per directory instead of one per file (a push of 20,000 files
   * spent more time here than writing them). A directory swapped for a link within that second
   * could still be followed; only someone with local write access to the root can do that (the
   * peer cannot replace a directory), and the check-then-open gap exists without the cache too.
   */
  private Path realDirectory(Path dir) throws IOException {
    long now = System.nanoTime();
    Cached c = realDirs.get(dir);
    if (c != null && now - c.at < REAL_PATH_TTL_NANOS) {
      return c.real;
    }
    Path existing = dir;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return null;
    }
    Path real = existing.toRealPath();
    if (existing == dir) {
      if (realDirs.size() > 10_000) {
        realDirs.clear();
      }
      realDirs.put(dir, new Cached(real, now));
    }
    return real;
  }

  private record Cached(Path real, long at) {}

  static final long REAL_PATH_TTL_NANOS = 1_000_000_000L;
  private final Map<Path, Cached> realDirs = new ConcurrentHashMap<>();

  /** For messages. */
  @Override
  public String toString() {
    return new ArrayList<>(roots).toString();
  }
}
