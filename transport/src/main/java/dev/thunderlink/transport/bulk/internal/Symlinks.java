package dev.thunderlink.transport.bulk.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Which symbolic links a copied tree carries, and how they are placed. A link is copied only
 * when its target is relative, climbs with {@code ..} only at its start (never after a name,
 * where the name could itself be a link), and so stays inside the copied tree; links are
 * created, never followed.
 *
 * <p>Stateless; any thread.
 */
public final class Symlinks {
  private Symlinks() {}

  /**
   * Why a link at {@code relPath} (relative to the copied tree's top, '/'-separated) with
   * {@code target} is not copied, or null when it is.
   */
  public static String refusal(String relPath, String target) {
    String form = formError(target);
    if (form != null) {
      return "symbolic link " + relPath + " -> " + target + " not copied: " + form;
    }
    int depth = 0;
    for (String c : relPath.split("/")) {
      if (!c.isEmpty() && !c.equals(".")) {
        depth++;
      }
    }
    depth--; // the link's own directory
    if (leadingUps(target) > depth) {
      return "symbolic link " + relPath + " -> " + target + " not copied: it points outside the copied tree";
    }
    return null;
  }

  /** Why a target is not of the copied form (relative, '..' only at its start), or null. */
  static String formError(String target) {
    if (target.isEmpty() || target.indexOf('\0') >= 0) {
      return "its target is empty or invalid";
    }
    if (target.startsWith("/")) {
      return "its target is absolute (only relative links inside the copied tree are copied)";
    }
    boolean name = false;
    for (String c : target.split("/")) {
      if (c.equals("..")) {
        if (name) {
          return "its target climbs with '..' after a name (only plain relative links inside the copied tree are copied)";
        }
      } else if (!c.isEmpty() && !c.equals(".")) {
        name = true;
      }
    }
    return null;
  }

  static int leadingUps(String target) {
    int n = 0;
    for (String c : target.split("/")) {
      if (c.equals("..")) {
        n++;
      }
    }
    return n;
  }

  /**
   * Creates (or atomically replaces an existing link or file with) a link at {@code link}.
   *
   * @return true when the same link was already there
   */
  public static boolean place(Path link, String target) throws IOException {
    if (Files.isSymbolicLink(link)) {
      if (Files.readSymbolicLink(link).toString().equals(target)) {
        return true;
      }
    } else if (Files.isDirectory(link, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(link + " exists and is a directory (expected: nothing, a file or a symbolic link)");
    }
    Files.createDirectories(link.getParent());
    Path temp = link.resolveSibling("." + link.getFileName() + ".tlpart-link");
    Files.deleteIfExists(temp);
    Files.createSymbolicLink(temp, Path.of(target));
    try {
      Files.move(temp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      Files.deleteIfExists(temp);
      throw e;
    }
    return false;
  }
}
