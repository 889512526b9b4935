package dev.thunderlink.sync.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
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
 * <p>Thread-safe: the per-directory cache is a concurrent map; {@link #invalidate()} drops it,
 * and what a read that was under way when it ran stores is never used (each read belongs to a
 * generation of the cache). Each file read remembers the hash of the bytes it parsed, so that
 * the index can tell whether the rules in force are the ones of the rule file it recorded
 * ({@link #readAs}).
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

  /**
   * One ignore file as read: its rules, the SHA-256 of the bytes parsed (null when there was no
   * regular file), and the cache generation it was read in.
   */
  private record Parsed(IgnoreNode node, String sha256, long generation) {}

  private final Path root;
  private final IgnoreNode builtIn;
  private final List<String> sessionPatterns;
  private final boolean useGitignore;
  private final AtomicLong generation = new AtomicLong();
  /** The session's patterns and the root's rule file (whose hash it keeps), or null. */
  private volatile Parsed rootNode;
  private final Map<String, Parsed> gitignores = new ConcurrentHashMap<>();

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
    generation.incrementAndGet(); // first: a read under way stores what no query takes any more
    rootNode = null;
    gitignores.clear();
  }

  /**
   * Whether the rules in force read the rule file at {@code path} (the root's
   * {@code .thunderlinkignore} or a {@code .gitignore}) as the content with this SHA-256 (null:
   * no regular file there), or have not read it yet (the next query reads it as it is then).
   * False when the file was read as other bytes: while it was being written, say, before the
   * scan that recorded its new content hashed it.
   */
  public boolean readAs(String path, String sha256) {
    long g = generation.get();
    Parsed p = path.equals(IGNORE_FILE) ? rootNode : gitignores.get(PathNames.parent(path));
    return p == null || p.generation() != g || Objects.equals(p.sha256(), sha256);
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
    long g = generation.get();
    Parsed cached = rootNode;
    if (cached != null && cached.generation() == g) {
      return cached.node();
    }
    List<FastIgnoreRule> rules = new ArrayList<>();
    for (String p : sessionPatterns) {
      rules.add(new FastIgnoreRule(p));
    }
    Parsed read;
    try {
      Parsed fromFile = parse(root.resolve(IGNORE_FILE), g);
      read = new Parsed(new IgnoreNode(concat(rules, fromFile.node().getRules())), fromFile.sha256(), g);
    } catch (IOException e) {
      // unreadable ignore file: keep the session patterns; the scanner reports the path
      read = new Parsed(new IgnoreNode(rules), null, g);
    }
    rootNode = read;
    return read.node();
  }

  private static List<FastIgnoreRule> concat(List<FastIgnoreRule> a, List<FastIgnoreRule> b) {
    List<FastIgnoreRule> all = new ArrayList<>(a);
    all.addAll(b); // later rules win in IgnoreNode, so the file overrides the session
    return all;
  }

  private IgnoreNode gitignoreFor(String dir) {
    long g = generation.get();
    Parsed cached = gitignores.get(dir);
    if (cached != null && cached.generation() == g) {
      return cached.node();
    }
    Parsed read;
    try {
      read = parse(dir.isEmpty() ? root.resolve(".gitignore") : root.resolve(dir).resolve(".gitignore"), g);
    } catch (IOException e) {
      read = new Parsed(EMPTY, null, g);
    }
    gitignores.put(dir, read);
    return read.node();
  }

  /** Test hook: runs right after an ignore file's bytes were read, before they are parsed. */
  volatile java.util.function.Consumer<Path> afterRead = file -> { };

  /** The file's rules, parsed from the same bytes whose hash it keeps. */
  private Parsed parse(Path file, long generation) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return new Parsed(EMPTY, null, generation);
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return new Parsed(EMPTY, null, generation);
    }
    afterRead.accept(file);
    IgnoreNode node = new IgnoreNode();
    node.parse(new ByteArrayInputStream(bytes));
    return new Parsed(node, ContentHash.of(bytes), generation);
  }
}
