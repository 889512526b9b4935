package dev.thunderlink.sync.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jgit.ignore.FastIgnoreRule;
import org.eclipse.jgit.ignore.IgnoreNode;

/**
 * Decides which paths a session leaves alone. Matching is JGit's {@code .gitignore}
 * implementation ({@link IgnoreNode}/{@link FastIgnoreRule}), not hand-rolled globbing.
 *
 * <p>Precedence, strongest first: the built-in rules (our temp files, {@code .DS_Store},
 * git's {@code *.lock} files under {@code .git}, and {@code .git} itself when VCS data is
 * ignored) which nothing can negate; then {@code .gitignore} files from the deepest directory
 * up (when enabled); then the session's patterns together with the root's
 * {@code .thunderlinkignore}. A path inside an ignored directory is ignored, as in git.
 *
 * <p>Thread-safe: the per-directory cache is a concurrent map; {@link #invalidate()} drops it.
 */
public final class IgnoreRules {
  /** Prefix of the applier's temporary files; always ignored and swept on start. */
  public static final String TEMP_PREFIX = ".thunderlink-tmp-";
  /**
   * Prefix of the bulk plane's partial file ({@code .NAME.tlpart}) of a copy the workstation
   * pushes to a temporary name: ours too, ignored and swept like the temporary files.
   */
  static final String BULK_PARTIAL_PREFIX = "." + TEMP_PREFIX;
  public static final String IGNORE_FILE = ".thunderlinkignore";

  private static final IgnoreNode EMPTY = new IgnoreNode();

  private final Path root;
  private final IgnoreNode builtIn;
  private final List<String> sessionPatterns;
  private final boolean useGitignore;
  private volatile IgnoreNode rootNode;
  private final Map<String, IgnoreNode> gitignores = new ConcurrentHashMap<>();

  public IgnoreRules(Path root, List<String> sessionPatterns, boolean useGitignore, boolean ignoreVcs) {
    this.root = root;
    this.sessionPatterns = List.copyOf(sessionPatterns);
    this.useGitignore = useGitignore;
    List<FastIgnoreRule> builtins = new ArrayList<>();
    builtins.add(new FastIgnoreRule(TEMP_PREFIX + "*"));
    builtins.add(new FastIgnoreRule(BULK_PARTIAL_PREFIX + "*"));
    builtins.add(new FastIgnoreRule(".DS_Store"));
    builtins.add(new FastIgnoreRule("/.git/**/*.lock"));
    if (ignoreVcs) {
      builtins.add(new FastIgnoreRule("/.git/"));
    }
    this.builtIn = new IgnoreNode(builtins);
    for (String pattern : sessionPatterns) {
      validatePattern(pattern);
    }
  }

  /**
   * The bulk plane's partial-file name of {@code tempName} (one of ours): where a push to that
   * name leaves its verified copy when the pusher asks the host to stage it.
   */
  static String bulkPartialName(String tempName) {
    return "." + tempName + ".tlpart";
  }

  /** True for a file name of ours: a temporary file or step, or the bulk plane's partial of one. */
  public static boolean isTemp(String name) {
    return name.startsWith(TEMP_PREFIX) || name.startsWith(BULK_PARTIAL_PREFIX);
  }

  /** Throws a one-line error for a pattern JGit cannot parse. */
  public static void validatePattern(String pattern) {
    if (pattern == null || pattern.isBlank()) {
      throw new IllegalArgumentException("ignore pattern: '" + pattern + "' (expected: a non-empty .gitignore pattern)");
    }
    try {
      new FastIgnoreRule(pattern);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("ignore pattern: '" + pattern + "' (expected: .gitignore syntax; " + e.getMessage() + ")");
    }
  }

  /** Forgets cached ignore files; the next query re-reads them. */
  public void invalidate() {
    rootNode = null;
    gitignores.clear();
  }

  /** True if a path changing here changes the rules themselves. */
  public static boolean isRulesFile(String path) {
    String name = PathNames.fileName(path);
    return name.equals(".gitignore") || path.equals(IGNORE_FILE);
  }

  /**
   * True if a change of the file at {@code path} changes these rules: the root's
   * {@code .thunderlinkignore}, and any {@code .gitignore} where the session reads them.
   */
  public boolean readsFile(String path) {
    return path.equals(IGNORE_FILE) || (useGitignore && PathNames.fileName(path).equals(".gitignore"));
  }

  /** Whether {@code path} (relative, NFC) or any directory containing it is ignored. */
  public boolean isIgnored(String path, boolean isDirectory) {
    int from = 0;
    while (true) {
      int slash = path.indexOf('/', from);
      if (slash < 0) {
        return matches(path, isDirectory);
      }
      if (matches(path.substring(0, slash), true)) {
        return true;
      }
      from = slash + 1;
    }
  }

  /** Whether {@code path} itself matches, assuming its parent directories are not ignored. */
  public boolean matches(String path, boolean isDirectory) {
    Boolean b = builtIn.checkIgnored(path, isDirectory);
    if (b != null && b) {
      return true;
    }
    if (useGitignore) {
      String dir = PathNames.parent(path);
      while (true) {
        IgnoreNode node = gitignoreFor(dir);
        String rel = dir.isEmpty() ? path : path.substring(dir.length() + 1);
        Boolean r = node.checkIgnored(rel, isDirectory);
        if (r != null) {
          return r;
        }
        if (dir.isEmpty()) {
          break;
        }
        dir = PathNames.parent(dir);
      }
    }
    Boolean r = rootNode().checkIgnored(path, isDirectory);
    return r != null && r;
  }

  private IgnoreNode rootNode() {
    IgnoreNode node = rootNode;
    if (node == null) {
      List<FastIgnoreRule> rules = new ArrayList<>();
      for (String p : sessionPatterns) {
        rules.add(new FastIgnoreRule(p));
      }
      node = new IgnoreNode(rules);
      try {
        IgnoreNode fromFile = parse(root.resolve(IGNORE_FILE));
        node = new IgnoreNode(concat(rules, fromFile.getRules()));
      } catch (IOException e) {
        // unreadable ignore file: keep the session patterns; the scanner reports the path
      }
      rootNode = node;
    }
    return node;
  }

  private static List<FastIgnoreRule> concat(List<FastIgnoreRule> a, List<FastIgnoreRule> b) {
    List<FastIgnoreRule> all = new ArrayList<>(a);
    all.addAll(b); // later rules win in IgnoreNode, so the file overrides the session
    return all;
  }

  private IgnoreNode gitignoreFor(String dir) {
    return gitignores.computeIfAbsent(dir, d -> {
      try {
        return parse(d.isEmpty() ? root.resolve(".gitignore") : root.resolve(d).resolve(".gitignore"));
      } catch (IOException e) {
        return EMPTY;
      }
    });
  }

  private static IgnoreNode parse(Path file) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return EMPTY;
    }
    IgnoreNode node = new IgnoreNode();
    try (InputStream in = Files.newInputStream(file)) {
      node.parse(in);
    } catch (NoSuchFileException e) {
      return EMPTY;
    }
    return node;
  }
}
