package dev.thunderlink.transport.bulk.internal;

import dev.thunderlink.transport.bulk.BulkException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The directories a peer may read and write on this host. A path is allowed when it lies
 * under a root both as written (after normalizing {@code ..}) and after resolving the
 * symbolic links of its deepest existing ancestor, so neither {@code ../..} nor a symlink
 * planted inside a root leads out. Relative paths are taken from the first root.
 *
 * <p>Immutable and thread-safe.
 */
public final class PermittedRoots {
  private final List<Path> roots;

  public PermittedRoots(List<Path> roots) {
    this.roots = List.copyOf(roots);
  }

  public List<Path> roots() {
    return roots;
  }

  /** The allowed absolute path for {@code requested}, or a one-line refusal. */
  public Path resolve(String requested) throws BulkException {
    if (requested == null || requested.isEmpty() || requested.indexOf('\0') >= 0) {
      throw new BulkException("path: '" + requested + "' (expected: a file path)", false);
    }
    if (roots.isEmpty()) {
      throw new BulkException(
          "path " + requested + " refused: no permitted roots are configured on the host (set bulk.permittedRoots)", false);
    }
    Path p;
    try {
      p = Path.of(requested);
    } catch (RuntimeException e) {
      throw new BulkException("path: '" + requested + "' (expected: a valid file path)", false);
    }
    Path abs = (p.isAbsolute() ? p : roots.get(0).resolve(p)).normalize();
    for (Path root : roots) {
      if (abs.startsWith(root) && realUnder(abs, root)) {
        return abs;
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
        if ((real.startsWith(realRoot) || real.startsWith(root)) && realUnder(real, root)) {
          return;
        }
      }
    } catch (IOException e) {
      throw new BulkException(refused + "cannot resolve " + link.getParent() + ": " + e.getMessage(), false);
    }
    throw new BulkException(refused + "its target leads outside the permitted roots " + roots + " of the host", false);
  }

  private static boolean realUnder(Path abs, Path root) {
    try {
      Path realRoot = Files.exists(root) ? root.toRealPath() : root;
      Path existing = abs;
      while (existing != null && !Files.exists(existing, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        existing = existing.getParent();
      }
      if (existing == null) {
        return false;
      }
      Path real = existing.toRealPath();
      return real.startsWith(realRoot) || real.startsWith(root);
    } catch (IOException e) {
      return false;
    }
  }

  /** For messages. */
  @Override
  public String toString() {
    return new ArrayList<>(roots).toString();
  }
}
