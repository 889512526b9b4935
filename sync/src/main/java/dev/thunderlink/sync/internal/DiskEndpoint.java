package dev.thunderlink.sync.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NotDirectoryException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One side of a session on a real (or injected, e.g. Jimfs) file system: scanner, index and
 * applier in one object, so the applier's own writes go straight into the index and never
 * come back as changes (echo suppression: the next scan finds stat data equal to what the
 * applier recorded).
 *
 * <p><b>Scanning.</b> Stat first; hash (SHA-256) only when size, mtime or file key differ from
 * the index. A file whose mtime is within {@link #RACY_MILLIS} of the scan is "racy" (a
 * same-size rewrite in the same clock tick would look unchanged), so its stat is not trusted
 * next time. Names are normalised to NFC; two on-disk names with one NFC form are a reported
 * collision and neither is synced. Symlinks are never followed; one pointing outside the root
 * is refused (reported) or kept as-is per options. Unreadable paths are reported and their
 * index rows kept, so an I/O error never turns into a deletion on the other side.
 *
 * <p><b>Applying.</b> Every operation names what the path must hold; it is re-checked right
 * before the change, and a mismatch returns {@code CHANGED} without touching anything. Files
 * are written to a temporary file in the destination directory, verified against the target
 * hash, then renamed over the destination.
 *
 * <p>Threads: public methods are synchronized on this object except the byte-moving parts of
 * an upload; the watcher thread only adds to the concurrent pending set.
 */
public final class DiskEndpoint implements Endpoint {
  /** Scan phase timings (debug, off by default), apart from everything else so it can be enabled alone. */
  private static final org.slf4j.Logger timing =
      org.slf4j.LoggerFactory.getLogger(DiskEndpoint.class.getName() + ".timing");
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DiskEndpoint.class);
  static final long RACY_MILLIS = 1000;
  /**
   * The racy window where mtimes have sub-second resolution (APFS, ext4, Jimfs): well above
   * the coarse kernel clock tick (at most 10 ms) that stamps them, so a write after a stat
   * taken this long after the mtime always gets a later mtime.
   */
  static final long FINE_RACY_MILLIS = 50;
  /** Files this large are hashed only after their racy window has passed (see {@link #observe}). */
  static final long RACY_WAIT_BYTES = 64L << 20;
  /** Files a scan hashes on its own thread before it hands the rest to {@link #HASHERS}. */
  static final int HASH_INLINE = 16;
  /**
   * Threads that hash for scans, one per core, shared by every side in the process (idle
   * ones exit): a scan that meets many new or changed files (an initial sync, a checkout)
   * walks on while they are hashed, on every core, instead of hashing them one by one.
   */
  private static final java.util.concurrent.ExecutorService HASHERS = hashers();

  private static java.util.concurrent.ExecutorService hashers() {
    int n = Math.max(1, Runtime.getRuntime().availableProcessors());
    java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(n, n, 30,
        TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "sync-hash");
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /** Block size fingerprinted while hashing until a coordinator asks for another one. */
  static final int DEFAULT_BLOCK_SIZE = 128 * 1024;

  /** Options of one side. */
  public record Options(String deviceName, List<String> ignorePatterns, boolean useGitignore, boolean ignoreVcs,
      boolean keepOutsideSymlinks, boolean watch, Duration debounce, Duration maxDelay, Duration macosLatency) {
    public Options {
      ignorePatterns = List.copyOf(ignorePatterns);
    }

    public static Options defaults(String deviceName) {
      return new Options(deviceName, List.of(), false, false, false, false, Duration.ofMillis(2),
          Duration.ofMillis(50), Duration.ofMillis(10));
    }
  }

  private final Path root;
  private final StateStore store;
  private final Options options;
  private final IgnoreRules rules;
  private final Info info;
  private final TreeMap<String, IndexRecord> index = new TreeMap<>(); // guarded by this
  /**
   * The index's rows by sequence number (then path), so that {@link #changes} walks only the
   * rows above the caller's number. It walked the whole index: with 20,000 files that was a
   * quarter of the host's CPU for each small edit. Kept with the index by {@link #put} alone.
   */
  private final java.util.TreeSet<SeqKey> bySeq = new java.util.TreeSet<>(); // guarded by this
  private final Set<String> pendingHints = ConcurrentHashMap.newKeySet();
  private volatile boolean pendingFull;
  private volatile Runnable listener;
  private final Map<String, String> errors = new TreeMap<>(); // guarded by this
  private final Set<String> collisions = new java.util.TreeSet<>(); // guarded by this
  private long seq; // guarded by this
  /**
   * Names this opening of the index ({@link ChangeSet#generation}): sequence numbers given
   * after the last save may be given again after a crash, so rows held in another
   * generation are never left out.
   */
  private final long generation = java.util.concurrent.ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
  private boolean scannedOnce; // guarded by this
  /** {@link #ignoreRulesVersion}: bumped by {@link #put} when a rule file's row changes content. */
  private volatile long rulesVersion;
  /** A scan of the whole tree with its rules read afresh is running (guarded by this). */
  private boolean inFullScan;
  private final TreeWatcher watcher;
  private final boolean unixView;
  /** Whether the file system has POSIX permissions (a stat that also gives the executable bit). */
  private final boolean posixView;
  /** The root's name and a separator: a scanned path's name minus this is its relative path. */
  private final String rootPrefix;
  private final List<IndexRecord> unsaved = new ArrayList<>(); // guarded by this
  /** Block fingerprints taken while hashing, persisted with the next index rows. */
  private final Map<String, StateStore.BlockList> unsavedBlocks = new HashMap<>(); // guarded by this
  /** The block size fingerprinted while hashing: the last one a coordinator asked for. */
  private volatile int blockSize = DEFAULT_BLOCK_SIZE;
  /** How many block lists {@link #blocks} had to compute by reading the file (tests check it is rare). */
  final java.util.concurrent.atomic.AtomicLong blockListsRead = new java.util.concurrent.atomic.AtomicLong();
  /** How many files scans have hashed (tests check that unchanged files are not). */
  final java.util.concurrent.atomic.AtomicLong filesHashed = new java.util.concurrent.atomic.AtomicLong();
  /** How many staged copies installs have hashed (tests check that verified pushes are not). */
  final java.util.concurrent.atomic.AtomicLong stagedHashed = new java.util.concurrent.atomic.AtomicLong();
  /** Copies the bulk plane of this process verified, trusted by {@link #installPushed}; null: none. */
  private volatile VerifiedCopies verifiedCopies;
  /** The free-space check before each write, asked of the file system only now and then. */
  final FreeSpaceGauge freeSpace = new FreeSpaceGauge();

  private DiskEndpoint(Path root, Path given, StateStore store, Options options) throws IOException {
    this.root = root;
    this.given = given;
    this.store = store;
    this.options = options;
    this.rules = new IgnoreRules(root, options.ignorePatterns(), options.useGitignore(), options.ignoreVcs());
    store.loadEntries().values().forEach(this::put);
    String last = store.meta("last_seq");
    this.seq = last == null ? 0 : Long.parseLong(last);
    for (IndexRecord r : index.values()) {
      seq = Math.max(seq, r.seq());
    }
    this.info = new Info(options.deviceName(), probeCaseInsensitive(root), probeNormalizing(root));
    this.unixView = root.getFileSystem().supportedFileAttributeViews().contains("unix");
    this.posixView = root.getFileSystem().supportedFileAttributeViews().contains("posix");
    String r = root.toString();
    String sep = root.getFileSystem().getSeparator();
    this.rootPrefix = r.endsWith(sep) ? r : r + sep;
    this.watcher = options.watch()
        ? new TreeWatcher(root, options.debounce(), options.maxDelay(), options.macosLatency(), this::hint,
            this::ownRename, this::watchOverflowed, this::fireListener, this::fireListener)
        : null;
  }

  /** Opens a side rooted at {@code root} with its index in {@code stateDb}. */
  public static DiskEndpoint open(Path root, Path stateDb, Options options, boolean createRoot) throws IOException {
    if (createRoot) {
      Files.createDirectories(root);
    }
    if (!Files.isDirectory(root)) {
      throw new NoSuchFileException(root.toString(), null,
          Files.exists(root) ? "sync root is not a directory" : "sync root does not exist (create the folder first)");
    }
    // a root that is a link to a folder (~/proj -> /Volumes/work/proj) is walked, watched and
    // written at that folder: walked as given, it was one symbolic link, and the first cycle
    // halted the session with "the local root is missing"
    Path folder = Files.isSymbolicLink(root) ? root.toRealPath() : root;
    StateStore store = StateStore.open(stateDb);
    try {
      return new DiskEndpoint(folder, root, store, options);
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /**
   * Makes the next {@link #changes} call a full scan that removes our temporary files, as the
   * first one after opening does: for a host endpoint a workstation opens again (its session
   * restarted), whose earlier run may have left copies pushed but never installed.
   */
  public synchronized void sweepTempsAtNextScan() {
    scannedOnce = false;
  }

  /** Where a (NFC) path of this side is on disk (the name the scanner found, else the NFC name). */
  public synchronized Path file(String path) {
    return disk(path);
  }

  /** The root as the session names it (a link to {@link #root}'s folder, or that folder). */
  private final Path given;

  public Path root() {
    return given;
  }

  /**
   * Sets the block size fingerprinted while hashing (the session's delta block size). Without
   * it the side learns the size from the first delta it takes part in.
   */
  public void fingerprintBlockSize(int blockSize) {
    if (blockSize < 4096) {
      throw new IllegalArgumentException("block size: " + blockSize + " (expected: >= 4096)");
    }
    this.blockSize = blockSize;
  }

  /**
   * Lets {@link #installPushed} install a copy the bulk plane of this process verified, and
   * recorded in {@code copies}, without hashing it again (see {@link VerifiedCopies}).
   */
  public void trustVerifiedCopies(VerifiedCopies copies) {
    this.verifiedCopies = copies;
  }

  /** True if the state database was found corrupt and recreated (a full rescan rebuilds it). */
  public boolean indexRebuilt() {
    return store.rebuilt();
  }

  private static boolean probeCaseInsensitive(Path root) {
    Path probe = root.resolve(IgnoreRules.TEMP_PREFIX + "probe-" + UUID.randomUUID() + "-Ab");
    try {
      Files.createFile(probe);
      try {
        String name = probe.getFileName().toString();
        return Files.exists(root.resolve(name.substring(0, name.length() - 2) + "aB"), LinkOption.NOFOLLOW_LINKS);
      } finally {
        Files.deleteIfExists(probe);
      }
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean probeNormalizing(Path root) {
    String base = IgnoreRules.TEMP_PREFIX + "probe-" + UUID.randomUUID() + "-";
    Path probe = root.resolve(base + "\u00e9");
    try {
      Files.createFile(probe);
      try {
        return Files.exists(root.resolve(base + "e\u0301"), LinkOption.NOFOLLOW_LINKS);
      } finally {
        Files.deleteIfExists(probe);
      }
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public boolean ignores(String path, boolean isDirectory) {
    return rules.isIgnored(path, isDirectory);
  }

  @Override
  public long ignoreRulesVersion() {
    return rulesVersion;
  }

  /** The rules this side reads (for tests: their hook). */
  IgnoreRules rules() {
    return rules;
  }

  @Override
  public Info info() {
    return info;
  }

  @Override
  public void onChange(Runnable listener) {
    this.listener = listener;
  }

  private void fireListener() {
    Runnable l = listener;
    if (l != null) {
      l.run();
    }
  }

  private void hint(Path absolute) {
    if (!absolute.startsWith(root)) {
      return;
    }
    String rel = relative(absolute);
    if (!ownRenames.isEmpty()) {
      ownRenames.remove(rel); // another event came first: the rename's own is no longer told apart
    }
    if (rel.isEmpty()) {
      pendingFull = true;
    } else {
      pendingHints.add(PathNames.nfc(rel));
    }
  }

  /**
   * Files the applier is renaming into place, by on-disk path relative to the root, each with
   * the {@link System#nanoTime} it was expected at: where the watcher reports a rename as one
   * "created" event ({@link TreeWatcher#reportsRenamesOnce}), that event is our own write,
   * recorded in the index already, and is dropped on the watch thread instead of being
   * rescanned (two stats per file) and waking the workstation: an initial sync of 20,000 files
   * rescanned all of them once more on the host. Any other event for the path drops its entry,
   * so a user's change is never taken for ours; entries the watcher never matched expire.
   */
  private final Map<String, Long> ownRenames = new ConcurrentHashMap<>();
  static final long OWN_RENAME_TTL_NANOS = TimeUnit.SECONDS.toNanos(60);
  private static final int MAX_OWN_RENAMES = 100_000;

  /** Expects the watcher's event for a rename to {@code dest}; returns its key (null: not expected, it is scanned). */
  private String expectOwnRename(Path dest) {
    if (watcher == null || !watcher.reportsRenamesOnce() || watcher.paused()) {
      return null;
    }
    if (ownRenames.size() >= MAX_OWN_RENAMES) {
      ownRenames.clear(); // a watcher this far behind: its events are scanned as before
    }
    String key = relative(dest);
    ownRenames.put(key, System.nanoTime());
    return key;
  }

  /** Watch thread: true (once) if {@code absolute} is a file the applier just renamed into place. */
  private boolean ownRename(Path absolute) {
    if (ownRenames.isEmpty() || !absolute.startsWith(root)) {
      return false;
    }
    Long at = ownRenames.remove(relative(absolute));
    return at != null && System.nanoTime() - at < OWN_RENAME_TTL_NANOS;
  }

  /** Events were lost: everything is scanned again, and no event can be matched to a rename of ours. */
  private void watchOverflowed() {
    pendingFull = true;
    ownRenames.clear();
  }

  /** Whether a burst of installs holds the watch off now (tests). */
  boolean watchPaused() {
    return watcher != null && watcher.paused();
  }

  /** How many times a burst of installs paused the watch (tests). */
  int watchPauses() {
    return watcher == null ? 0 : watcher.pauses();
  }

  /** The paths the next {@link #changes} call rescans because the watcher reported them (tests). */
  Set<String> hintedPaths() {
    return Set.copyOf(pendingHints);
  }

  /** Marks paths to rescan on the next {@link #changes} call (the watcher's way in). */
  void hintPaths(Collection<String> paths) {
    pendingHints.addAll(paths);
  }

  private String relative(Path absolute) {
    String sep = root.getFileSystem().getSeparator();
    String abs = absolute.toString();
    String s;
    if (abs.length() > rootPrefix.length() && abs.startsWith(rootPrefix)) {
      s = abs.substring(rootPrefix.length()); // what relativize gives, without its cost (every scanned path)
    } else {
      s = root.relativize(absolute).toString();
    }
    return sep.equals("/") ? s : s.replace(sep, "/");
  }

  /** The on-disk location of a (NFC) path: the name found by the scanner, else the NFC name. */
  private Path disk(String path) {
    IndexRecord r = index.get(path);
    if (r != null) {
      return root.resolve(r.diskPath());
    }
    String parent = PathNames.parent(path);
    Path base = parent.isEmpty() ? root : disk(parent);
    return base.resolve(PathNames.fileName(path));
  }

  private String diskRel(String path) {
    return relative(disk(path));
  }

  // ------------------------------------------------------------------ scanning

  @Override
  public synchronized ChangeSet changes(long sinceSeq, boolean full, Collection<String> rescanPaths, Held held)
      throws IOException {
    saveIndex();
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      return new ChangeSet(Map.of(), seq, Map.copyOf(errors), List.copyOf(collisions), true, generation, watchProblem());
    }
    if (watcher != null && watcher.paused()) {
      // a burst of installs paused the watch: it covers the tree again before this scans (a
      // full one, for whatever changed meanwhile), so that scan needs no other after it
      try {
        watcher.resume(REWATCH_WAIT);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while watching " + root + " again");
      }
    }
    Set<String> hints = new HashSet<>(rescanPaths);
    for (String h : pendingHints) {
      pendingHints.remove(h);
      hints.add(h);
    }
    if (hints.stream().anyMatch(rules::readsFile)) {
      rules.invalidate();
      full = true;
    }
    if (full || pendingFull || !scannedOnce) {
      // the watcher registers the tree while the first scan runs: a change in a directory
      // this scan has passed and the watch does not cover yet is found by the next full scan,
      // which the watcher asks for (the listener) once its registration is over
      boolean watched = watcher == null || !watcher.registering();
      pendingFull = false;
      rules.invalidate();
      inFullScan = true; // read afresh, its rules are the new ones already: no second full scan
      try {
        scan(List.of(""));
      } finally {
        inFullScan = false;
      }
      scannedOnce = true;
      pendingFull |= !watched;
    } else if (!hints.isEmpty()) {
      scan(hints);
    }
    return new ChangeSet(rowsAbove(sinceSeq, held), seq, Map.copyOf(errors), List.copyOf(collisions), false, generation,
        watchProblem());
  }

  /**
   * The entries of the rows above {@code sinceSeq} that the coordinator does not hold, by path.
   * A few (an edit): from {@link #bySeq}'s tail. Many (a first answer, a big change): one walk
   * of the index in path order, as cheap as sorting them would be.
   */
  private Map<String, Entry> rowsAbove(long sinceSeq, Held held) {
    Map<String, Entry> out = new LinkedHashMap<>();
    List<String> paths = new ArrayList<>();
    int many = Math.max(64, index.size() / 8);
    for (SeqKey k : bySeq.tailSet(new SeqKey(sinceSeq == Long.MAX_VALUE ? sinceSeq : sinceSeq + 1, ""), true)) {
      if (paths.size() >= many) {
        for (IndexRecord r : index.values()) {
          if (r.seq() > sinceSeq && !held.holds(generation, r.seq())) {
            out.put(r.path(), r.entry());
          }
        }
        return out;
      }
      paths.add(k.path());
    }
    java.util.Collections.sort(paths);
    for (String p : paths) {
      IndexRecord r = index.get(p);
      if (r.seq() > sinceSeq && !held.holds(generation, r.seq())) {
        out.put(p, r.entry());
      }
    }
    return out;
  }

  /** What one scan saw at one NFC path. */
  private record Seen(String diskPath, Entry entry, long size, long mtimeNanos, String key) {}

  /** A file's hash and, for a file above the block size, its block fingerprints (else null). */
  private record HashedFile(Seen seen, StateStore.BlockList blocks) {}

  /** A file being hashed on a {@link #HASHERS} thread: its on-disk name and the result to come. */
  private record PendingHash(String diskPath, java.util.concurrent.Future<HashedFile> result) {}

  private final class Pass {
    final long startMillis = System.currentTimeMillis();
    final Map<String, Seen> seen;
    /** Files this pass handed to the hashing threads, by NFC path; {@link #awaitHashes} moves them to seen. */
    final Map<String, PendingHash> hashing = new HashMap<>();
    final Set<String> collided = new HashSet<>();
    final Set<String> failed = new HashSet<>();
    final Set<String> walkedDirs = new HashSet<>();
    final boolean sweepTemps = !scannedOnce;
    /** Files hashed on the scanning thread itself (the first few of every pass). */
    int hashedHere;

    /** @param expected about how many paths the pass will see (a rescan of the tree: the index's size) */
    Pass(int expected) {
      seen = new HashMap<>(Math.max(16, expected + expected / 3));
    }

    /**
     * The file's hash: computed now for the first {@link #HASH_INLINE} files of a pass (a
     * watcher's few paths pay no hand-off), else on the hashing threads, while this thread
     * walks on; then null, and {@link #awaitHashes} collects it.
     */
    Seen hash(String key, String rel, Path p, long statSize, long recordedMtime, String fileKey, boolean exec,
        long mtimeMillis) throws IOException {
      int bs = blockSize;
      if (hashedHere < HASH_INLINE) {
        hashedHere++;
        HashedFile h = hashFile(rel, p, statSize, recordedMtime, fileKey, exec, mtimeMillis, bs);
        keepBlocks(key, h);
        return h.seen();
      }
      hashing.put(key, new PendingHash(rel,
          HASHERS.submit(() -> hashFile(rel, p, statSize, recordedMtime, fileKey, exec, mtimeMillis, bs))));
      return null;
    }

    /** Waits for the files handed to the hashing threads; each lands in seen, or in failed as a scan error would. */
    void awaitHashes() throws IOException {
      try {
        for (Map.Entry<String, PendingHash> e : hashing.entrySet()) {
          String key = e.getKey();
          try {
            HashedFile h = e.getValue().result().get();
            keepBlocks(key, h);
            seen.put(key, h.seen());
          } catch (java.util.concurrent.ExecutionException x) {
            if (x.getCause() instanceof NoSuchFileException) {
              errors.remove(key); // vanished between listing and reading
            } else if (x.getCause() instanceof IOException io) {
              failed.add(key);
              errors.put(key, describe(io));
            } else if (x.getCause() instanceof RuntimeException r) {
              throw r;
            } else {
              throw new IOException("hashing " + key + ": " + x.getCause(), x.getCause());
            }
          }
        }
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("scan interrupted");
      } finally {
        for (PendingHash h : hashing.values()) {
          h.result().cancel(true); // done ones stay done; the rest of an interrupted scan stops
        }
        hashing.clear();
      }
    }

    void visit(Path p, BasicFileAttributes a) {
      String rel = relative(p);
      String name = PathNames.fileName(rel);
      if (IgnoreRules.isTemp(name)) {
        if (sweepTemps && !a.isDirectory()) {
          try {
            Files.deleteIfExists(p); // left by an apply that was killed
          } catch (IOException ignored) {
            // reported nowhere: it is ours and ignored
          }
          VerifiedCopies copies = verifiedCopies;
          if (copies != null) {
            copies.forget(p);
          }
        }
        return;
      }
      String key = PathNames.nfc(rel);
      if (rules.matches(key, a.isDirectory())) {
        return;
      }
      Seen previous = seen.get(key);
      PendingHash pending = previous == null ? hashing.get(key) : null;
      String previousDisk = previous != null ? previous.diskPath() : pending != null ? pending.diskPath() : null;
      if (previousDisk != null && !previousDisk.equals(rel)) {
        collided.add(key);
        return;
      }
      try {
        Seen s = observe(this, key, rel, p, a, startMillis);
        if (s != null) {
          seen.put(key, s);
        }
        errors.remove(key);
      } catch (NoSuchFileException e) {
        errors.remove(key); // vanished between listing and reading: simply not there any more
      } catch (IOException e) {
        failed.add(key);
        errors.put(key, describe(e));
      }
    }
  }

  /** What a pass sees at one path; null for what is not content and for a file {@link Pass#hash} hashes later. */
  private Seen observe(Pass pass, String key, String rel, Path p, BasicFileAttributes a, long scanMillis)
      throws IOException {
    long mtimeNanos = a.lastModifiedTime().to(TimeUnit.NANOSECONDS);
    long mtimeMillis = a.lastModifiedTime().toMillis();
    if (a.isDirectory()) {
      return new Seen(rel, Entry.directory(), 0, 0, null);
    }
    if (a.isSymbolicLink()) {
      String target = Files.readSymbolicLink(p).toString();
      if (!options.keepOutsideSymlinks() && pointsOutside(key, target)) {
        throw new IOException("symlink points outside the sync root: " + target + " (refused; not followed)");
      }
      return new Seen(rel, Entry.symlink(target.replace(root.getFileSystem().getSeparator(), "/")), 0, 0, null);
    }
    if (!a.isRegularFile()) {
      return null; // sockets, fifos, devices: not content
    }
    if (a.size() >= RACY_WAIT_BYTES && mtimeNanos % 1_000_000_000L != 0) {
      long wait = Math.floorDiv(mtimeNanos, 1_000_000L) + FINE_RACY_MILLIS - System.currentTimeMillis();
      if (wait > 0 && wait <= FINE_RACY_MILLIS) {
        // a large file written just now: its stat would not be trusted, and the next scan
        // would hash all of it again; waiting out the window costs less than that
        try {
          TimeUnit.MILLISECONDS.sleep(wait + 1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("scan interrupted");
        }
        a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isRegularFile()) {
          return observe(pass, key, rel, p, a, System.currentTimeMillis());
        }
        mtimeNanos = a.lastModifiedTime().to(TimeUnit.NANOSECONDS);
        mtimeMillis = a.lastModifiedTime().toMillis();
        scanMillis = System.currentTimeMillis();
      }
    }
    FileStat fs = fileStat(p, a);
    boolean exec = fs.executable();
    String fileKey = fs.key();
    IndexRecord old = index.get(key);
    long recordedMtime = racy(scanMillis, mtimeNanos) ? -1 : mtimeNanos;
    if (old != null && old.entry() != null && old.entry().isFile() && old.entry().executable() == exec
        && (old.statMatches(a.size(), mtimeNanos, fileKey) || legacyKeyMatches(old, a, mtimeNanos, fs))) {
      return new Seen(rel, old.entry(), a.size(), recordedMtime, fileKey);
    }
    return pass.hash(key, rel, p, a.size(), recordedMtime, fileKey, exec, mtimeMillis);
  }

  /**
   * Hashes a file whose stat was taken by a scan; any thread (it reads the file and nothing
   * of this object's state). The entry's size is what was hashed; the stat kept is the one
   * taken before hashing, so a file that grew in between differs from its record next time
   * and is hashed again.
   */
  private HashedFile hashFile(String rel, Path p, long statSize, long recordedMtime, String fileKey, boolean exec,
      long mtimeMillis, int bs) throws IOException {
    filesHashed.incrementAndGet();
    ContentHash.Hashed h = ContentHash.hashFile(p, statSize > bs ? bs : 0);
    Seen s = new Seen(rel, Entry.file(h.hash(), h.length(), exec, mtimeMillis), statSize, recordedMtime, fileKey);
    return new HashedFile(s, h.blocks() == null ? null : new StateStore.BlockList(h.hash(), bs, h.blocks()));
  }

  /** Keeps a hashed file's block fingerprints for the next save of the index. Scanning thread. */
  private void keepBlocks(String key, HashedFile h) {
    if (h.blocks() != null) {
      unsavedBlocks.put(key, h.blocks());
    }
  }

  /**
   * True if a file's stat cannot be trusted to reveal the next write: a same-size rewrite
   * within the same mtime tick as the last one would look unchanged. Sub-second mtimes mean a
   * fine-grained file system (a whole-second mtime there is a one-in-a-billion coincidence,
   * which only costs a re-hash).
   */
  static boolean racy(long nowMillis, long mtimeNanos) {
    long window = mtimeNanos % 1_000_000_000L != 0 ? FINE_RACY_MILLIS : RACY_MILLIS;
    return Math.abs(nowMillis - Math.floorDiv(mtimeNanos, 1_000_000L)) < window;
  }

  /**
   * Identity of a file's content as far as stat can tell: device, inode and ctime (in
   * nanoseconds) where the file system has them, else its file key. ctime changes on every
   * write, rename and chmod and cannot be set by a user, so an inode reused by a same-size file
   * with a copied mtime still looks different (git's index does the same).
   */
  private String statKey(Path p, BasicFileAttributes a) {
    return fileStat(p, a).key();
  }

  /**
   * A regular file's executable bit, {@link #statKey} and (unix view) ctime, from one stat
   * (a scan calls this for every file). The key is built from numbers: a formatted ctime
   * ({@code FileTime.toString}) was a visible part of a scan's CPU and of its JIT work.
   */
  private record FileStat(boolean executable, String key, FileTime ctime) {}

  private FileStat fileStat(Path p, BasicFileAttributes a) {
    if (unixView && UnixAttributes.readable(a)) { // the caller's stat holds it all: no second one
      UnixAttributes.Stat u = UnixAttributes.of(a);
      return new FileStat(u.ownerExecute(), unixKey(u.dev(), u.ino(), u.ctime().to(TimeUnit.NANOSECONDS)), u.ctime());
    }
    if (unixView) {
      try {
        Map<String, Object> m = Files.readAttributes(p, "unix:mode,dev,ino,ctime", LinkOption.NOFOLLOW_LINKS);
        FileTime ctime = (FileTime) m.get("ctime");
        return new FileStat((((Integer) m.get("mode")) & 0100) != 0, unixKey(m), ctime);
      } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
        return new FileStat(isExecutable(p), fileKeyText(a) + "/?", null); // no ctime: a key no stat matches
      }
    }
    return new FileStat(isExecutable(p), fileKeyText(a), null);
  }

  /** {@link #statKey} from the unix view's dev, ino and ctime. */
  private static String unixKey(Map<String, Object> m) {
    return unixKey((Long) m.get("dev"), (Long) m.get("ino"), ((FileTime) m.get("ctime")).to(TimeUnit.NANOSECONDS));
  }

  static String unixKey(long dev, long ino, long ctimeNanos) {
    return dev + ":" + ino + ":" + ctimeNanos;
  }

  /** A file's size, mtime and file key with its {@link #statKey}, as {@link #record} keeps them. */
  private record KeyedStat(long size, FileTime mtime, Object fileKey, String key) {}

  /**
   * {@link #statKey} with the stat it is made from: one stat where the file system has the
   * unix view (two before: a basic one, then the unix one for the key).
   */
  private KeyedStat keyedStat(Path p) throws IOException {
    if (unixView) {
      try {
        UnixStat u = UnixStat.of(p);
        if (u == null) {
          throw new NoSuchFileException(p.toString());
        }
        return new KeyedStat(u.size(), u.lastModifiedTime(), u.fileKey(), unixKey(u.dev(), u.ino(), u.ctimeNanos()));
      } catch (UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
        // fall through to the basic stat, as fileStat does
      }
    }
    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    return new KeyedStat(a.size(), a.lastModifiedTime(), a.fileKey(), statKey(p, a));
  }

  private static String fileKeyText(BasicFileAttributes a) {
    return a.fileKey() == null ? "" : a.fileKey().toString();
  }

  /**
   * True if {@code old} holds the key scans recorded before keys were numbers (file key, then
   * the ctime as ISO text) and it still describes the file: the row is then rewritten with
   * the numeric key instead of the file being hashed again, so an upgrade re-hashes nothing.
   */
  private static boolean legacyKeyMatches(IndexRecord old, BasicFileAttributes a, long mtimeNanos, FileStat fs) {
    return fs.ctime() != null && old.statKey() != null && old.statKey().startsWith("(")
        && old.statMatches(a.size(), mtimeNanos, fileKeyText(a) + "/" + fs.ctime());
  }

  private boolean pointsOutside(String key, String target) {
    Path t = root.getFileSystem().getPath(target);
    if (t.isAbsolute()) {
      return true;
    }
    String parent = PathNames.parent(key);
    Path base = parent.isEmpty() ? root : root.resolve(parent);
    return !base.resolve(t).normalize().startsWith(root.normalize());
  }

  private static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "vanished while scanning";
    }
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m;
  }

  /** Scans the given NFC paths ("" = the whole tree) and commits the differences as one transaction. */
  private void scan(Collection<String> paths) throws IOException {
    long t0 = System.nanoTime();
    long hashedBefore = filesHashed.get();
    Pass pass = new Pass(paths.contains("") ? index.size() : paths.size());
    Set<String> wanted = new HashSet<>(paths);
    // a hinted path whose parents are unknown to the index needs them scanned too
    for (String p : paths) {
      String parent = PathNames.parent(p);
      while (!parent.isEmpty() && !isLiveDir(parent) && wanted.add(parent)) {
        parent = PathNames.parent(parent);
      }
    }
    // shallow first, so that a path inside a directory already walked (or found gone) in this
    // pass is skipped: after a burst of creations the watcher hints a new directory and each
    // file in it, and walking the directory once covers them all
    List<String> tops = new ArrayList<>(wanted);
    tops.sort(Comparator.comparingInt(PathNames::depth).thenComparing(Comparator.naturalOrder()));
    Set<String> gone = new HashSet<>();
    for (String top : tops) {
      if (!top.isEmpty() && (coveredBy(top, pass.walkedDirs) || coveredBy(top, gone))) {
        continue;
      }
      if (!top.isEmpty() && rules.isIgnored(top, isLiveDir(top))) {
        continue;
      }
      Path start = top.isEmpty() ? root : disk(top);
      BasicFileAttributes a;
      try {
        a = Files.readAttributes(start, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        gone.add(top);
        continue;
      } catch (IOException e) {
        if (isNotDirectory(e)) {
          // an ancestor is no longer a directory: the path is gone, and the ancestor is seen
          // now (which retires every row under it), not left for a hint that may never come
          gone.add(top);
          String anc = nonDirectoryAncestor(top);
          if (anc != null) {
            try {
              Path ap = disk(anc);
              pass.visit(ap, Files.readAttributes(ap, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
            } catch (IOException again) {
              pendingHints.add(anc);
            }
          }
          continue;
        }
        pass.failed.add(top);
        errors.put(top, describe(e));
        continue;
      }
      if (!top.isEmpty() && (info.caseInsensitive() || info.normalizing()
          ? !realNameMatches(start, top) : !PathNames.nfc(relative(start)).equals(top))) {
        gone.add(top); // case-insensitive lookup found another name: the hinted one is gone
      }
      if (a.isDirectory()) {
        pass.walkedDirs.add(top);
        walk(start, pass);
      } else if (!top.isEmpty()) {
        pass.visit(start, a);
      }
    }
    pass.awaitHashes();
    long t1 = System.nanoTime();
    commit(pass, gone);
    long t2 = System.nanoTime();
    // a scan of a whole tree or of many paths says where its time went; small ones stay at debug
    boolean big = pass.seen.size() >= 1000 || t2 - t0 >= 2_000_000_000L;
    timing.atLevel(big ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.DEBUG).log(
        "{}: scan of {} paths ({}): walk, stat and hash {} ms ({} files hashed), commit {} entries in {} ms",
        info.deviceName(), paths.size(), root, (t1 - t0) / 1_000_000, filesHashed.get() - hashedBefore,
        pass.seen.size(), (t2 - t1) / 1_000_000);
  }

  /** True for ENOTDIR: a component of the path (or the rename target's kind) is not a directory. */
  static boolean isNotDirectory(IOException e) {
    return e instanceof NotDirectoryException
        || (e instanceof FileSystemException f && "Not a directory".equals(f.getReason()));
  }

  /** True for EISDIR: a file operation met a directory. */
  static boolean isDirectoryError(IOException e) {
    return e instanceof FileSystemException f && "Is a directory".equals(f.getReason());
  }

  /** The nearest proper ancestor of {@code path} that exists on disk and is not a directory, or null. */
  private String nonDirectoryAncestor(String path) {
    for (String q = PathNames.parent(path); !q.isEmpty(); q = PathNames.parent(q)) {
      try {
        BasicFileAttributes a = Files.readAttributes(disk(q), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return a.isDirectory() ? null : q;
      } catch (IOException e) {
        // missing, or itself under a non-directory: look further up
      }
    }
    return null;
  }

  /**
   * A fresh name for a temporary file or step beside a destination: 64 random bits from a
   * per-thread generator rather than a random UUID, which draws on SecureRandom (a lock and
   * a read of the kernel's pool) for every file written. The name needs uniqueness, not
   * unpredictability: 64 random bits make a clash as unlikely in practice as a UUID's 122, and
   * temporary files are created with CREATE_NEW, so one would fail that write as a race.
   */
  static String tempName() {
    return IgnoreRules.TEMP_PREFIX + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong());
  }

  /** Removes a temporary file; one whose directory became a file was never created. */
  private static void removeTemp(Path tmp) throws IOException {
    try {
      Files.deleteIfExists(tmp);
    } catch (IOException e) {
      if (!isNotDirectory(e)) {
        throw e;
      }
    }
  }

  /** True if a proper ancestor of {@code path} is in {@code dirs}. */
  private static boolean coveredBy(String path, Set<String> dirs) {
    if (dirs.isEmpty()) {
      return false;
    }
    for (String p = PathNames.parent(path); ; p = PathNames.parent(p)) {
      if (dirs.contains(p)) {
        return true;
      }
      if (p.isEmpty()) {
        return false;
      }
    }
  }

  private void walk(Path start, Pass pass) throws IOException {
    Files.walkFileTree(start, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
        if (dir.equals(root)) {
          return FileVisitResult.CONTINUE;
        }
        String rel = relative(dir);
        String name = PathNames.fileName(rel);
        String key = PathNames.nfc(rel);
        if (IgnoreRules.isTemp(name) || rules.matches(key, true)) {
          return FileVisitResult.SKIP_SUBTREE;
        }
        pass.visit(dir, attrs);
        return pass.collided.contains(key) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        pass.visit(file, attrs);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) {
        if (!(e instanceof NoSuchFileException)) {
          String key = PathNames.nfc(relative(file));
          pass.failed.add(key);
          errors.put(key, describe(e));
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) {
        if (e != null && !(e instanceof NoSuchFileException)) {
          String key = dir.equals(root) ? "" : PathNames.nfc(relative(dir));
          pass.failed.add(key);
          errors.put(key.isEmpty() ? "." : key, describe(e));
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private boolean isLiveDir(String path) {
    IndexRecord r = index.get(path);
    return r != null && r.entry() != null && r.entry().isDirectory();
  }

  private boolean underAny(String path, Set<String> prefixes) {
    if (prefixes.contains(path) || prefixes.contains("")) {
      return true;
    }
    String p = path;
    while (!p.isEmpty()) {
      p = PathNames.parent(p);
      if (prefixes.contains(p) && (!p.isEmpty())) {
        return true;
      }
    }
    return false;
  }

  private void commit(Pass pass, Set<String> gone) throws IOException {
    List<IndexRecord> rows = new ArrayList<>();
    collisions.removeIf(k -> !pass.collided.contains(k) && pass.seen.containsKey(k));
    for (String k : pass.collided) {
      collisions.add(k);
      pass.seen.remove(k);
    }
    for (Map.Entry<String, Seen> e : pass.seen.entrySet()) {
      IndexRecord row = upsert(e.getKey(), e.getValue());
      if (row != null) {
        rows.add(row);
      }
    }
    // deletions: live rows inside what was walked, not seen, not failed, not collided, not now ignored
    Set<String> scopes = new HashSet<>(pass.walkedDirs);
    scopes.addAll(gone);
    List<String> candidates = new ArrayList<>();
    for (String scope : scopes) {
      Map<String, IndexRecord> range = scope.isEmpty() ? index : index.subMap(scope, true, scope + "/\uffff", true);
      for (IndexRecord r : range.values()) {
        if (r.entry() != null && (r.path().equals(scope) ? gone.contains(scope) : PathNames.isDescendant(r.path(), scope))) {
          candidates.add(r.path());
        }
      }
    }
    // a directory replaced by a file or link: nothing can live under it any more, and rows
    // left live there would make the coordinator write into a path that is not a directory
    // (a pass over the whole tree has every live row among its candidates already: looking
    // under each of its files again was a visible part of a full rescan's CPU)
    if (!scopes.contains("")) {
      for (Map.Entry<String, Seen> e : pass.seen.entrySet()) {
        if (!e.getValue().entry().isDirectory()) {
          String k = e.getKey();
          for (IndexRecord r : index.subMap(k + "/", true, k + "/\uffff", true).values()) {
            if (r.entry() != null) {
              candidates.add(r.path());
            }
          }
        }
      }
    }
    for (String path : candidates) {
      if (pass.seen.containsKey(path) || pass.collided.contains(path) || underAny(path, pass.failed)
          || collisions.contains(path)) {
        continue;
      }
      IndexRecord r = index.get(path);
      if (r.entry() == null || rules.isIgnored(path, r.entry().isDirectory())) {
        continue;
      }
      errors.remove(path);
      IndexRecord tomb = new IndexRecord(path, r.diskPath(), null, 0, 0, null, ++seq);
      put(tomb);
      rows.add(tomb);
    }
    // persisted with the applier's rows, at the start of the next changes call (or on close),
    // not before this one answers: an initial sync's 20,000 rows took ~60 ms of SQLite ahead of
    // its transfers, and an edit's one row a commit ahead of its propagation. A crash before
    // the write costs a re-hash of those files on restart, never a transfer
    unsaved.addAll(rows);
  }

  /** Records what was seen; returns the row to persist, or null if nothing changed. */
  private IndexRecord upsert(String key, Seen s) {
    IndexRecord old = index.get(key);
    boolean same = old != null && Entry.sameContent(old.entry(), s.entry()) && Entry.sameTimes(old.entry(), s.entry())
        && old.diskPath().equals(s.diskPath());
    if (same && old.statMatches(s.size(), s.mtimeNanos(), s.key())) {
      return null;
    }
    IndexRecord row = new IndexRecord(key, s.diskPath(), s.entry(), s.size(), s.mtimeNanos(), s.key(),
        same ? old.seq() : ++seq);
    put(row);
    return row;
  }

  // ------------------------------------------------------------------ reading

  /**
   * The fingerprints kept from the last hashing of the file when its stat still matches the
   * index (no read at all); otherwise they are computed from the file now. Either way they
   * only pick blocks to reuse: the whole-file hash is checked before anything lands.
   */
  @Override
  public synchronized BlockSignature blocks(String path, int blockSize) throws IOException {
    Path p = disk(path);
    BasicFileAttributes a = statOrNull(p);
    if (a == null || !a.isRegularFile()) {
      return new BlockSignature(-1, List.of());
    }
    this.blockSize = blockSize;
    IndexRecord r = index.get(path);
    boolean current = r != null && r.entry() != null && r.entry().isFile()
        && r.statMatches(a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), statKey(p, a));
    if (current) {
      StateStore.BlockList kept = unsavedBlocks.get(path);
      if (kept == null) {
        kept = store.loadBlocks(path);
      }
      if (kept != null && kept.blockSize() == blockSize && kept.hash().equals(r.entry().hash())) {
        return new BlockSignature(a.size(), ContentHash.BlockHasher.split(kept.fingerprints()));
      }
    }
    blockListsRead.incrementAndGet();
    ContentHash.Hashed h = ContentHash.hashFile(p, blockSize);
    if (current && h.hash().equals(r.entry().hash())) {
      unsavedBlocks.put(path, new StateStore.BlockList(h.hash(), blockSize, h.blocks()));
    }
    return new BlockSignature(h.length(), ContentHash.BlockHasher.split(h.blocks()));
  }

  @Override
  public void read(String path, String expectedHash, List<long[]> ranges, ChunkSink sink) throws IOException {
    Path p;
    IndexRecord r;
    synchronized (this) {
      p = disk(path);
      r = index.get(path);
    }
    BasicFileAttributes before = statOrNull(p);
    if (r == null || r.entry() == null || !r.entry().isFile() || !r.entry().hash().equals(expectedHash)
        || before == null || !before.isRegularFile() || before.size() != r.statSize()) {
      throw new ContentChangedException(path + " changed since it was scanned");
    }
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      for (long[] range : ranges) {
        long offset = range[0];
        int length = (int) range[1];
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
          if (ch.read(buf, offset + buf.position()) < 0) {
            throw new ContentChangedException(path + " shrank while being read");
          }
        }
        sink.accept(offset, buf.array());
      }
    }
    BasicFileAttributes after = statOrNull(p);
    if (after == null || after.size() != before.size()
        || !after.lastModifiedTime().equals(before.lastModifiedTime())) {
      throw new ContentChangedException(path + " was modified while being read");
    }
  }

  private static BasicFileAttributes statOrNull(Path p) throws IOException {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** Largest file {@link #readFiles} serves, and the most it serves per call. */
  static final int WHOLE_FILE_MAX = 4 << 20;
  static final int WHOLE_CALL_MAX = 16 << 20;

  @Override
  public List<byte[]> readFiles(List<String> paths, List<String> expectedHashes) throws IOException {
    if (paths.size() != expectedHashes.size()) {
      throw new IllegalArgumentException("read files: " + paths.size() + " paths, " + expectedHashes.size()
          + " hashes (expected: one hash per path)");
    }
    List<byte[]> out = new ArrayList<>(paths.size());
    long total = 0;
    for (int i = 0; i < paths.size(); i++) {
      String path = PathNames.checkRelative(paths.get(i));
      Path p;
      IndexRecord r;
      synchronized (this) {
        p = disk(path);
        r = index.get(path);
      }
      if (r == null || r.entry() == null || !r.entry().isFile() || !r.entry().hash().equals(expectedHashes.get(i))) {
        out.add(null);
        continue;
      }
      if (r.statSize() > WHOLE_FILE_MAX || (total += r.statSize()) > WHOLE_CALL_MAX) {
        throw new IllegalArgumentException("read files: " + path + " makes the call too large (expected: files of at"
            + " most " + WHOLE_FILE_MAX + " bytes, " + WHOLE_CALL_MAX + " in all)");
      }
      out.add(readWhole(p, r.statSize()));
    }
    return out;
  }

  /**
   * The file's first {@code expectedSize} bytes if it is a regular file of that size, else null
   * (a FIFO put there since the scan would block the read). No stat after the read: every reader
   * of {@link #readFiles} hands the bytes to {@link #writeFiles}, which installs them only if they
   * hash to the scanned content ({@link #writeWhole}), so a file changed while it was read fails
   * there, and says so. On a host, that stat was ~2 % of its CPU in a 20,000-file pull.
   */
  private static byte[] readWhole(Path p, long expectedSize) throws IOException {
    BasicFileAttributes before = statOrNull(p);
    if (before == null || !before.isRegularFile() || before.size() != expectedSize) {
      return null;
    }
    byte[] data = new byte[(int) expectedSize];
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.wrap(data);
      while (buf.hasRemaining()) {
        if (ch.read(buf, buf.position()) < 0) {
          return null; // shrank while being read
        }
      }
    } catch (NoSuchFileException e) {
      return null;
    }
    return data;
  }

  @Override
  public List<ApplyResult> writeFiles(List<WholeFile> files, int blockSize) throws IOException {
    int bs = checkBlockSize(blockSize);
    for (WholeFile f : files) {
      checkTarget(f.path(), f.target());
    }
    installing(files.size());
    try {
      return eachFile(files, WholeFile::path, f -> writeWhole(f, bs));
    } finally {
      installed();
    }
  }

  /** A copy of a file pushed to {@code stagedPath} (a temporary name in the destination's directory). */
  public record StagedFile(String path, Entry expected, Entry target, String stagedPath) {}

  /**
   * Installs copies moved beside their destinations over the bulk plane (pulled to this side),
   * each checked and renamed into place on its own as {@link #writeFiles} does, one result per
   * file in order. A copy that is missing or is not the target's content (its source changed
   * while it was being sent) answers {@link ApplyResult.Outcome#CHANGED}; a copy not installed
   * is removed.
   */
  public List<ApplyResult> installStaged(List<StagedFile> files, int blockSize) throws IOException {
    return installStaged(files, blockSize, false);
  }

  /**
   * Installs copies the workstation pushed over the bulk plane, as {@link #installStaged}
   * does. Each copy is looked for first where the bulk plane leaves a staged push, its partial
   * name ({@link IgnoreRules#bulkPartialName}), which is renamed straight to the destination;
   * then at the staged path itself (a pusher that had it renamed there).
   */
  public List<ApplyResult> installPushed(List<StagedFile> files, int blockSize) throws IOException {
    return installStaged(files, blockSize, true);
  }

  private List<ApplyResult> installStaged(List<StagedFile> files, int blockSize, boolean pushed) throws IOException {
    int bs = checkBlockSize(blockSize);
    installing(files.size());
    for (StagedFile f : files) {
      checkTarget(f.path(), f.target());
      String staged = PathNames.checkRelative(f.stagedPath());
      if (!PathNames.parent(staged).equals(PathNames.parent(f.path()))
          || !PathNames.fileName(staged).startsWith(IgnoreRules.TEMP_PREFIX)) {
        throw new IllegalArgumentException("staged path: " + staged + " (expected: a name starting with "
            + IgnoreRules.TEMP_PREFIX + " in the directory of " + f.path() + ")");
      }
    }
    try {
      return eachFile(files, StagedFile::path, f -> installOne(f, bs, pushed));
    } finally {
      installed();
    }
  }

  private int checkBlockSize(int blockSize) {
    if (blockSize != 0 && blockSize < 4096) {
      throw new IllegalArgumentException("block size: " + blockSize + " (expected: 0 or >= 4096)");
    }
    return blockSize == 0 ? this.blockSize : blockSize;
  }

  private static void checkTarget(String path, Entry target) {
    PathNames.checkRelative(path);
    if (target == null || !target.isFile()) {
      throw new IllegalArgumentException("write target: " + target + " (expected: a file)");
    }
  }

  private interface FileStep<T> {
    ApplyResult apply(T file) throws IOException;
  }

  /**
   * Files installed in a burst (calls less than {@link #BURST_QUIET} apart) before the watch is
   * paused for the rest of it ({@link TreeWatcher#pauseUntilQuiet}): at least this many, and
   * at least a quarter of the index, since watching again registers the whole tree and the
   * next changes call scans all of it.
   */
  static final int PAUSE_WATCH_FILES = 1000;
  static final Duration BURST_QUIET = Duration.ofSeconds(1);
  /** How long a changes call waits for the tree to be watched again after a pause before scanning. */
  private static final Duration REWATCH_WAIT = Duration.ofSeconds(30);
  private final Object burstLock = new Object();
  private long burstFiles; // guarded by burstLock
  private long burstLastNanos; // guarded by burstLock

  /** A call is about to install {@code files} files: pauses the watch in a large burst of them. */
  private void installing(int files) {
    if (watcher == null) {
      return;
    }
    int indexed;
    synchronized (this) {
      indexed = index.size();
    }
    long now = System.nanoTime();
    long threshold = Math.max(PAUSE_WATCH_FILES, indexed / 4);
    synchronized (burstLock) {
      // a burst ends with a quiet second, or when the pause it caused ended (a changes call
      // watches the tree again first): what comes after is counted afresh. Counting on across
      // that resume paused the watch again for each small install less than a second apart
      // after a large sync, and each next cycle then watched and rescanned the whole tree.
      if (now - burstLastNanos > BURST_QUIET.toNanos() || (burstFiles >= threshold && !watcher.paused())) {
        burstFiles = 0;
      }
      burstLastNanos = now;
      burstFiles += files;
      if (watcher.paused() || burstFiles >= threshold) {
        watcher.pauseUntilQuiet(BURST_QUIET);
      }
    }
  }

  /** A call's installs are over: a pause lasts until {@link #BURST_QUIET} after the last one. */
  private void installed() {
    if (watcher != null && watcher.paused()) {
      watcher.pauseUntilQuiet(BURST_QUIET);
    }
  }

  /** Runs {@code step} on each file; a full disk throws, any other I/O error is that file's result. */
  private <T> List<ApplyResult> eachFile(List<T> files, java.util.function.Function<T, String> pathOf, FileStep<T> step)
      throws IOException {
    List<ApplyResult> out = new ArrayList<>(files.size());
    for (T f : files) {
      ApplyResult r;
      try {
        r = step.apply(f);
      } catch (IOException e) {
        if (DiskFullException.isNoSpace(e)) {
          throw e;
        }
        // one file's trouble is that file's result: thrown, it would fail every file of the
        // call, each reported as an error and none reconciled again
        synchronized (this) {
          r = isRace(e) ? raced(pathOf.apply(f), e)
              : ApplyResult.failed(pathOf.apply(f) + ": " + ApplyResult.reason(e));
        }
      }
      out.add(r);
    }
    return out;
  }

  /**
   * One file of {@link #writeFiles}: verified in memory before it touches the disk, then the
   * same temporary file, re-check and rename as an upload, without reading the bytes back.
   * Like an upload it keeps the file's block fingerprints (files above {@code blockSize}),
   * checks free space first and turns "no space" into {@link DiskFullException}.
   */
  private ApplyResult writeWhole(WholeFile f, int blockSize) throws IOException {
    String path = f.path();
    Entry target = f.target();
    if (f.data().length != target.size() || !ContentHash.of(f.data()).equals(target.hash())) {
      return ApplyResult.changed(path + ": content changed while it was being sent");
    }
    byte[] blocks = null;
    if (f.data().length > blockSize) {
      ContentHash.BlockHasher fp = new ContentHash.BlockHasher(blockSize);
      fp.update(f.data(), 0, f.data().length);
      blocks = fp.finish();
    }
    Path dest;
    synchronized (this) {
      dest = disk(path);
    }
    Path parent = dest.getParent();
    long free = parent == null ? -1 : freeSpace.reserve(parent, f.data().length);
    if (free >= 0 && free < f.data().length) {
      throw diskFull(dest, f.data().length, null);
    }
    Path tmp = dest.resolveSibling(tempName());
    boolean installed = false;
    try {
      try {
        writeNew(tmp, f.data());
      } catch (NoSuchFileException e) {
        pendingHints.add(path);
        return ApplyResult.changed(path + ": parent directory is missing");
      } catch (IOException e) {
        if (!isNotDirectory(e)) {
          throw e;
        }
        synchronized (this) {
          return raced(path, e);
        }
      }
      afterTempWritten.accept(tmp);
      if (target.executable()) {
        setExecutable(tmp, true); // a new file never has execute bits (0666 & ~umask)
      }
      if (target.mtimeMillis() > 0) {
        NativeTimes.setModified(tmp, FileTime.fromMillis(target.mtimeMillis()));
      }
      ApplyResult r = install(path, tmp, f.expected(), target, blocks, blockSize, null);
      installed = r.outcome() == ApplyResult.Outcome.OK;
      return r;
    } catch (IOException e) {
      throw DiskFullException.isNoSpace(e) && !(e instanceof DiskFullException)
          ? diskFull(dest, f.data().length, e) : e;
    } finally {
      if (!installed) {
        removeTemp(tmp);
      }
    }
  }

  /**
   * Creates {@code tmp} (it must not exist) holding {@code data}, in one write where the file
   * system takes it: {@link Files#write} writes 8 KiB at a time, two or three calls for each
   * file of a typical source tree (a 20,000-file pull made ~32,000 writes). Larger files go in
   * {@link #WRITE_SLICE} pieces: the JDK copies each through a direct buffer that the writing
   * thread then keeps, so a 4 MiB file in one piece would keep 4 MiB per transfer thread.
   */
  private static void writeNew(Path tmp, byte[] data) throws IOException {
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (int off = 0; off < data.length; ) {
        ByteBuffer b = ByteBuffer.wrap(data, off, Math.min(WRITE_SLICE, data.length - off));
        while (b.hasRemaining()) {
          ch.write(b);
        }
        off = b.position();
      }
    }
  }

  private static final int WRITE_SLICE = 256 * 1024;

  /**
   * One file of {@link #installStaged}: the pushed copy is hashed (a small file is still in
   * the page cache) and must be the target's content; it gets the target's executable bit and
   * mtime, then the same re-check and rename as {@link #writeWhole}. A copy the bulk plane of
   * this process verified is not hashed again when its record shows the target's hash and its
   * stat is still the one taken at verification ({@link #verifiedHash}).
   *
   * @param pushed look first for the copy the bulk plane staged at its partial name
   */
  private ApplyResult installOne(StagedFile f, int blockSize, boolean pushed) throws IOException {
    String path = f.path();
    Entry target = f.target();
    Path staged;
    synchronized (this) {
      staged = disk(path).resolveSibling(PathNames.fileName(f.stagedPath()));
    }
    boolean installed = false;
    try {
      BasicFileAttributes a = null;
      VerifiedCopies.Copy verified = null;
      if (pushed) {
        Path partial = staged.resolveSibling(IgnoreRules.bulkPartialName(staged.getFileName().toString()));
        VerifiedCopies copies = verifiedCopies;
        verified = copies == null ? null : copies.take(partial);
        a = verified != null && unixView ? UnixStat.of(partial) : stagedStat(partial);
        if (a != null) {
          staged = partial;
        }
      }
      if (a == null) {
        a = stagedStat(staged);
      }
      if (a == null || !a.isRegularFile()) {
        return ApplyResult.changed(path + ": its pushed copy is gone");
      }
      ContentHash.Hashed h = null;
      if (a.size() == target.size()) {
        h = verifiedHash(verified, a, target, blockSize);
        if (h == null) {
          stagedHashed.incrementAndGet();
          h = ContentHash.hashFile(staged, a.size() > blockSize ? blockSize : 0);
        }
      }
      if (h == null || !h.hash().equals(target.hash())) {
        return ApplyResult.changed(path + ": content changed while it was being sent");
      }
      afterTempWritten.accept(staged);
      boolean exec = a instanceof PosixFileAttributes px ? px.permissions().contains(PosixFilePermission.OWNER_EXECUTE)
          : a instanceof UnixStat u ? u.ownerExecute() : isExecutable(staged);
      BasicFileAttributes written = a; // the copy as it will be renamed, unless its mode or mtime is set now
      if (exec != target.executable()) {
        setExecutable(staged, target.executable());
        written = null;
      }
      if (target.mtimeMillis() > 0 && a.lastModifiedTime().toMillis() != target.mtimeMillis()) {
        NativeTimes.setModified(staged, FileTime.fromMillis(target.mtimeMillis()));
        written = null;
      }
      ApplyResult r = install(path, staged, f.expected(), target, h.blocks(), blockSize, written);
      installed = r.outcome() == ApplyResult.Outcome.OK;
      return r;
    } finally {
      if (!installed) {
        removeTemp(staged);
      }
    }
  }

  /**
   * The target's hash if the bulk plane of this process verified the staged copy as the
   * target's content and it has not changed since: its record {@code c} (taken by the caller,
   * so used once) has the target's hash, and the copy's size, mtime, device, inode and ctime
   * are the ones taken right after verification. Null otherwise, and for a file above the
   * block size, whose hash must also fingerprint its blocks: the caller hashes it.
   *
   * @param a the copy's stat, taken by the caller ({@link UnixStat} where {@code c} is not null)
   */
  private ContentHash.Hashed verifiedHash(VerifiedCopies.Copy c, BasicFileAttributes a, Entry target, int blockSize) {
    if (c == null || !(a instanceof UnixStat u) || u.size() > blockSize || !c.hash().equals(target.hash())
        || c.size() != u.size() || !c.mtime().equals(u.lastModifiedTime())
        || c.dev() != u.dev() || c.ino() != u.ino() || c.ctimeNanos() != u.ctimeNanos()) {
      return null;
    }
    verifiedCopies.trusted();
    return new ContentHash.Hashed(target.hash(), u.size(), null);
  }

  /**
   * A pushed copy's stat with what {@link #verifiedHash} compares (device, inode, ctime) and
   * its executable bit, from one stat of the unix view (a second one per file cost about a
   * third of what skipping the hash saved).
   */
  record UnixStat(long size, FileTime lastModifiedTime, Object fileKey, boolean isRegularFile,
      boolean isDirectory, boolean isSymbolicLink, boolean ownerExecute, long dev, long ino, long ctimeNanos)
      implements BasicFileAttributes {
    /** The stat of {@code p}, or null if it is not there. */
    static UnixStat of(Path p) throws IOException {
      if (UnixAttributes.available()) {
        BasicFileAttributes a;
        try {
          a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
          return null;
        }
        if (UnixAttributes.readable(a)) {
          UnixAttributes.Stat u = UnixAttributes.of(a);
          return new UnixStat(a.size(), a.lastModifiedTime(), a.fileKey(), a.isRegularFile(), a.isDirectory(),
              a.isSymbolicLink(), u.ownerExecute(), u.dev(), u.ino(), u.ctime().to(TimeUnit.NANOSECONDS));
        }
      }
      Map<String, Object> m;
      try {
        m = Files.readAttributes(p,
            "unix:size,lastModifiedTime,fileKey,isRegularFile,isDirectory,isSymbolicLink,mode,dev,ino,ctime",
            LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        return null;
      }
      return new UnixStat((Long) m.get("size"), (FileTime) m.get("lastModifiedTime"), m.get("fileKey"),
          (Boolean) m.get("isRegularFile"), (Boolean) m.get("isDirectory"), (Boolean) m.get("isSymbolicLink"),
          (((Integer) m.get("mode")) & 0100) != 0, (Long) m.get("dev"),
          (Long) m.get("ino"), ((FileTime) m.get("ctime")).to(TimeUnit.NANOSECONDS));
    }

    @Override
    public FileTime lastAccessTime() {
      return lastModifiedTime;
    }

    @Override
    public FileTime creationTime() {
      return lastModifiedTime;
    }

    @Override
    public boolean isOther() {
      return !isRegularFile && !isDirectory && !isSymbolicLink;
    }
  }

  /**
   * A pushed copy's stat, with its permissions where the file system has POSIX ones (the
   * executable bit without a second stat per file), or null if it is not there.
   */
  private BasicFileAttributes stagedStat(Path staged) throws IOException {
    if (!posixView) {
      return statOrNull(staged);
    }
    try {
      return Files.readAttributes(staged, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /**
   * The tail of every whole-file write: re-checks the destination against {@code expected},
   * renames {@code tmp} (the verified new content, with its final mode and mtime) over it and
   * records it, with its block fingerprints when given. Anything but OK leaves {@code tmp} for
   * the caller to remove.
   *
   * @param tmpStat {@code tmp}'s stat as it is now, taken by the caller, or null to take it here
   */
  private synchronized ApplyResult install(String path, Path tmp, Entry expected, Entry target, byte[] blocks,
      int blockSize, BasicFileAttributes tmpStat) throws IOException {
    Path dest = disk(path); // resolved once: recheck, rename and record all need it
    // a new file: the rename itself refuses to replace anything (no stat first, no window)
    boolean exclusive = expected == null && exclusiveRename && ExclusiveRename.available(dest);
    if (!exclusive) {
      String why = recheck(path, dest, expected, null);
      if (why != null) {
        pendingHints.add(path);
        return ApplyResult.changed(path + ": " + why);
      }
    }
    BasicFileAttributes written = tmpStat;
    try {
      if (written == null) {
        written = Files.readAttributes(tmp, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      }
    } catch (NoSuchFileException e) {
      return raced(path, e);
    }
    String echo = expectOwnRename(dest);
    boolean renamed = false;
    try {
      ExclusiveRename.Result x = exclusive ? renameNew(tmp, dest) : ExclusiveRename.Result.UNSUPPORTED;
      if (x != ExclusiveRename.Result.RENAMED) {
        // something is there (EXISTS: named in the re-check's words), or this file system has
        // no exclusive rename after all: the re-check the plain rename needs
        String why = exclusive ? recheck(path, dest, null, null) : null;
        if (why != null || x == ExclusiveRename.Result.EXISTS) {
          pendingHints.add(path);
          return ApplyResult.changed(path + ": " + (why == null ? "now exists" : why));
        }
        replace(path, tmp, dest, expected);
      }
      renamed = true;
    } catch (DirectoryNotEmptyException e) {
      pendingHints.add(path);
      return ApplyResult.changed(path + ": directory is not empty");
    } catch (IOException e) {
      if (!isRace(e)) {
        throw e;
      }
      return raced(path, e);
    } finally {
      if (!renamed && echo != null) {
        ownRenames.remove(echo);
      }
    }
    IndexRecord row = record(path, dest, target, written);
    if (blocks != null) {
      this.blockSize = blockSize;
      unsavedBlocks.put(path, new StateStore.BlockList(target.hash(), blockSize, blocks));
    }
    return ApplyResult.ok(row.entry(), row.seq());
  }

  // ------------------------------------------------------------------ applying

  /** Null if {@code path} holds {@code expected} right now, else why not. */
  private String recheck(String path, Entry expected) throws IOException {
    return recheck(path, disk(path), expected, null);
  }

  /**
   * @param p where {@code path} is on disk ({@link #disk})
   * @param renameSource for a rename's destination: the source path, which on a
   *     case-insensitive side may be the very entry found under the destination's name
   */
  private String recheck(String path, Path p, Entry expected, String renameSource) throws IOException {
    BasicFileAttributes a = statOrNull(p);
    if (a != null && (info.caseInsensitive() || info.normalizing()) && !sameDiskName(p, path)) {
      // found only by folding case or normalisation: another name holds this place
      if (expected == null && renameSource != null
          && PathNames.collisionKey(renameSource).equals(PathNames.collisionKey(path))) {
        return null;
      }
      return expected == null ? "collides with an existing name that differs only in case" : "no longer exists";
    }
    if (expected == null) {
      return a == null ? null : "now exists";
    }
    if (a == null) {
      return "no longer exists";
    }
    switch (expected.kind()) {
      case DIRECTORY:
        return a.isDirectory() ? null : "is no longer a directory";
      case SYMLINK:
        return a.isSymbolicLink() && Files.readSymbolicLink(p).toString().equals(expected.target())
            ? null : "symlink changed";
      default:
        if (!a.isRegularFile()) {
          return "is no longer a file";
        }
        FileStat fs = fileStat(p, a);
        if (fs.executable() != expected.executable()) {
          return "executable bit changed";
        }
        IndexRecord r = index.get(path);
        String key = fs.key();
        if (r != null && r.entry() != null && r.entry().isFile() && r.entry().hash().equals(expected.hash())
            && r.statMatches(a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), key)) {
          return null;
        }
        return ContentHash.ofFile(p).equals(expected.hash()) ? null : "content changed";
    }
  }

  /**
   * On a case-insensitive or normalising side, is the existing entry really named {@code path},
   * every component of it? A lookup folds case in the directories on the way too: after
   * {@code Src} became {@code src}, {@code Src/a.txt} still opens {@code src/a.txt}.
   */
  private boolean sameDiskName(Path p, String path) throws IOException {
    if (!realNameMatches(p, path)) {
      return false;
    }
    Path parent = p.getParent();
    String want = PathNames.fileName(path);
    try (var s = Files.list(parent)) {
      return s.anyMatch(c -> PathNames.nfc(c.getFileName().toString()).equals(want));
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  /**
   * True if the components of {@code p}'s real path (as the file system stores the names)
   * end with the components of {@code path}, compared in NFC. Where the file system does not
   * report stored names, this is true and only the last component is checked, by listing.
   */
  private static boolean realNameMatches(Path p, String path) {
    Path real;
    try {
      real = p.toRealPath(LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return false; // gone, or under something that is no longer a directory
    }
    String[] parts = path.split("/");
    int n = real.getNameCount();
    if (n < parts.length) {
      return false;
    }
    for (int i = 0; i < parts.length; i++) {
      if (!PathNames.nfc(real.getName(n - parts.length + i).toString()).equals(parts[i])) {
        return false;
      }
    }
    return true;
  }

  private record SeqKey(long seq, String path) implements Comparable<SeqKey> {
    @Override
    public int compareTo(SeqKey o) {
      int c = Long.compare(seq, o.seq);
      return c != 0 ? c : path.compareTo(o.path);
    }
  }

  /** Puts a row in the index (replacing the path's row) and in {@link #bySeq}. */
  private void put(IndexRecord row) {
    IndexRecord old = index.put(row.path(), row);
    if (old != null) {
      bySeq.remove(new SeqKey(old.seq(), old.path()));
    }
    bySeq.add(new SeqKey(row.seq(), row.path()));
    if (scannedOnce && rules.readsFile(row.path())
        && !Entry.sameContent(old == null ? null : old.entry(), row.entry())) {
      // the rules changed: what they now ignore or no longer ignore is looked at again, in
      // full, wherever the change came from (the applier's write of the other side's rule
      // file, or a scan that was not asked to look at rule files: a checkout under a folder);
      // a full scan that found it read the rules afresh at its start, and covers it already,
      // unless it read them as other bytes than it recorded: a rule file still being written
      // when the scan's rules were read was recorded whole, and rules read from the empty file
      // would stay in force (the coordinator looks at the tree again under the rules once per
      // version, so it would never ignore what the file says)
      rulesVersion++;
      Entry e = row.entry();
      if (!inFullScan || !rules.readAs(row.path(), e != null && e.isFile() ? e.hash() : null)) {
        rules.invalidate();
        pendingFull = true;
      }
    }
  }

  private IndexRecord record(String path, Path p, Entry entry) throws IOException {
    return record(path, p, entry, null);
  }

  /**
   * Records what the applier put at {@code path}. For a file, {@code before} is the stat taken
   * from the temporary file before the rename (a rename keeps inode, size and mtime): reading
   * it after the rename could pick up a user's write that landed in between and pair its stat
   * with our hash, hiding that write from every later scan.
   */
  private IndexRecord record(String path, Path p, Entry entry, BasicFileAttributes before) throws IOException {
    String rel = relative(p);
    IndexRecord row;
    if (entry == null) {
      row = new IndexRecord(path, rel, null, 0, 0, null, ++seq);
    } else if (!entry.isFile()) {
      Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS); // throws if it is gone
      row = new IndexRecord(path, rel, entry, 0, 0, null, ++seq);
    } else {
      KeyedStat a = keyedStat(p);
      if (before != null && !(a.size() == before.size() && a.mtime().equals(before.lastModifiedTime())
          && java.util.Objects.equals(a.fileKey(), before.fileKey()))) {
        // someone wrote the file right after our rename: keep a stat that cannot match, so the
        // next scan hashes what is really there
        a = new KeyedStat(before.size(), before.lastModifiedTime(), before.fileKey(), "unverified");
      }
      boolean racy = racy(System.currentTimeMillis(), a.mtime().to(TimeUnit.NANOSECONDS));
      Entry stored = Entry.file(entry.hash(), a.size(), entry.executable(), a.mtime().toMillis());
      row = new IndexRecord(path, rel, stored, a.size(), racy ? -1 : a.mtime().to(TimeUnit.NANOSECONDS), a.key(), ++seq);
    }
    put(row);
    unsaved.add(row);
    if (unsaved.size() >= UNSAVED_ROWS_MAX) {
      saveIndex();
    }
    return row;
  }

  /**
   * Rows the applier records before it writes them itself rather than leave them for the next
   * {@link #changes} call. At 512 the host wrote 40 transactions during a 20,000-file initial
   * sync, ~0.1 s of its CPU while it was the busier side; the next changes call (the cycle that
   * confirms the sync) writes them at once instead. A crash loses at most this many rows, each
   * a re-hash on restart, never a transfer (see {@link #saveIndex}).
   */
  static final int UNSAVED_ROWS_MAX = 65_536;

  /**
   * Persists rows the applier and the scans recorded. They are written in batches (here, at the
   * start of the next {@link #changes} call, and on close) rather than one transaction per file
   * or per scan: a crash before the write only costs a re-hash of those files on restart, never
   * a transfer, since their content is on disk under the real name.
   */
  private void saveIndex() throws IOException {
    if (!unsaved.isEmpty() || !unsavedBlocks.isEmpty()) {
      store.writeEntries(new ArrayList<>(unsaved), seq, new HashMap<>(unsavedBlocks));
      unsaved.clear();
      unsavedBlocks.clear();
    }
  }

  private void recordTree(String path, Path p) throws IOException {
    // a directory moved or removed with everything under it: tombstone the old rows
    List<IndexRecord> rows = new ArrayList<>();
    for (IndexRecord r : new ArrayList<>(index.subMap(path + "/", path + "/\uffff").values())) {
      if (r.entry() != null) {
        IndexRecord tomb = new IndexRecord(r.path(), r.diskPath(), null, 0, 0, null, ++seq);
        put(tomb);
        rows.add(tomb);
      }
    }
    unsaved.addAll(rows);
  }

  @Override
  public synchronized ApplyResult apply(Op op) throws IOException {
    PathNames.checkRelative(op.path());
    String why = recheck(op.path(), op.expected());
    if (why != null) {
      pendingHints.add(op.path());
      return ApplyResult.changed(op.path() + ": " + why);
    }
    Path p = disk(op.path());
    try {
      switch (op.kind()) {
        case MKDIR: {
          if (op.expected() != null && op.expected().isDirectory()) {
            return ApplyResult.ok(Entry.directory());
          }
          if (op.expected() != null) {
            Files.delete(p);
            p = disk(op.path());
          }
          Files.createDirectory(p);
          return ApplyResult.ok(Entry.directory(), record(op.path(), p, Entry.directory()).seq());
        }
        case DELETE: {
          if (op.expected() == null) {
            return ApplyResult.ok(null);
          }
          Files.delete(p);
          return ApplyResult.ok(null, record(op.path(), p, null).seq());
        }
        case SYMLINK: {
          Path tmp = p.resolveSibling(tempName());
          Files.createSymbolicLink(tmp, root.getFileSystem().getPath(op.target().target()));
          replace(op.path(), tmp, p, op.expected());
          return ApplyResult.ok(op.target(), record(op.path(), disk(op.path()), op.target()).seq());
        }
        case SET_ATTRIBUTES: {
          // the content is right already: its executable bit and its modification time become the target's
          BasicFileAttributes before = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
          setExecutable(p, op.target().executable());
          long mtime = op.target().mtimeMillis();
          if (mtime != Entry.UNKNOWN_MTIME && mtime != before.lastModifiedTime().toMillis()) {
            FileTime to = FileTime.fromMillis(mtime);
            NativeTimes.setModified(p, to);
            BasicFileAttributes after = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (after.size() == before.size() && after.lastModifiedTime().equals(to)
                && java.util.Objects.equals(after.fileKey(), before.fileKey())) {
              before = after; // our own change of time; anything else still shows in record's check
            }
          }
          Entry e = Entry.file(op.expected().hash(), op.expected().size(), op.target().executable(), mtime);
          return ApplyResult.ok(e, record(op.path(), p, e, before).seq());
        }
        case RENAME: {
          String to = PathNames.checkRelative(op.toPath());
          String whyTo = recheck(to, disk(to), op.expectedTo(), op.path());
          if (whyTo != null) {
            pendingHints.add(to);
            return ApplyResult.changed(to + ": " + whyTo);
          }
          boolean caseOnly = PathNames.collisionKey(op.path()).equals(PathNames.collisionKey(to));
          if (op.expected() != null && op.expected().isDirectory() && caseOnly) {
            return renameDirectoryCase(op.path(), p, to);
          }
          if (op.expected() == null || op.expected().isDirectory()) {
            return ApplyResult.failed(op.path() + ": only files and symlinks are renamed (directories: only in case)");
          }
          Path dest = disk(to);
          BasicFileAttributes moved = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
          if (PathNames.collisionKey(op.path()).equals(PathNames.collisionKey(to))) {
            // a case-only rename: some case-insensitive file systems treat it as a no-op, so go
            // through a temporary name
            Path step = p.resolveSibling(tempName());
            Files.move(p, step, StandardCopyOption.ATOMIC_MOVE);
            Files.move(step, dest, StandardCopyOption.ATOMIC_MOVE);
          } else {
            Files.move(p, dest, StandardCopyOption.ATOMIC_MOVE);
          }
          record(op.path(), p, null); // not held: this tombstone comes back in the next answer
          IndexRecord row = record(to, dest, op.expected(), moved);
          return ApplyResult.ok(row.entry(), row.seq());
        }
        default:
          throw new IllegalArgumentException("op: " + op.kind());
      }
    } catch (DirectoryNotEmptyException e) {
      pendingHints.add(op.path());
      return ApplyResult.changed(op.path() + ": directory is not empty (it holds files the other side has not seen"
          + " or that are ignored)");
    } catch (IOException e) {
      if (isRace(e)) {
        return raced(op.path(), e);
      }
      throw DiskFullException.isNoSpace(e) ? diskFull(disk(op.path()), 0, e) : e;
    }
  }

  /**
   * True if an apply failed because the tree is not what was re-checked a moment before: a
   * name vanished or appeared, a directory stands where a file was to go (EISDIR), or a
   * file where a directory was expected (ENOTDIR).
   */
  static boolean isRace(IOException e) {
    return e instanceof NoSuchFileException || e instanceof FileAlreadyExistsException || isNotDirectory(e)
        || isDirectoryError(e);
  }

  /**
   * The tree changed between the re-check and the change itself (a user's write landed in
   * between): nothing of theirs was touched; rescan and reconcile again. An ENOTDIR means an
   * ancestor is not a directory: that ancestor is rescanned too, since the index may still
   * hold it as a directory with live children (a stale index would otherwise send the
   * coordinator back to the same failing write every cycle). Caller holds the lock.
   */
  private ApplyResult raced(String path, IOException e) {
    pendingHints.add(path);
    String parent = PathNames.parent(path);
    if (!parent.isEmpty()) {
      pendingHints.add(parent);
    }
    String why = e instanceof FileSystemException f && f.getReason() != null ? f.getReason()
        : e.getClass().getSimpleName();
    if (isNotDirectory(e)) {
      String anc = nonDirectoryAncestor(path);
      if (anc != null) {
        pendingHints.add(anc);
        if (isLiveDir(anc)) {
          log.warn("{}: {} is not a directory on disk but the index holds it as one; rescanning it",
              info.deviceName(), anc);
          return ApplyResult.changed(path + ": " + anc + " is no longer a directory (index was stale)");
        }
      }
    }
    return ApplyResult.changed(path + ": changed while being applied (" + why + ")");
  }

  /**
   * A directory renamed in case or normalisation only ({@code Src} to {@code src}): on a
   * case-insensitive side creating {@code src} beside {@code Src} is impossible and deleting
   * {@code Src} takes the files with it, so the directory itself is renamed, through a
   * temporary name (some file systems treat a case-only rename as a no-op), and every row
   * under it moves to the new name with its stat: the files are neither touched nor rehashed.
   * Caller holds the lock.
   */
  private ApplyResult renameDirectoryCase(String from, Path p, String to) throws IOException {
    Path step = p.resolveSibling(tempName());
    Path dest = p.resolveSibling(PathNames.fileName(to));
    Files.move(p, step, StandardCopyOption.ATOMIC_MOVE);
    Files.move(step, dest, StandardCopyOption.ATOMIC_MOVE);
    String oldDisk = index.get(from) != null ? index.get(from).diskPath() : relative(p);
    String newDisk = relative(dest);
    List<IndexRecord> moved = new ArrayList<>();
    moved.add(index.get(from));
    moved.addAll(index.subMap(from + "/", true, from + "/\uffff", true).values());
    for (IndexRecord r : moved) {
      if (r == null || r.entry() == null) {
        continue;
      }
      String np = to + r.path().substring(from.length());
      String nd = r.diskPath().startsWith(oldDisk) ? newDisk + r.diskPath().substring(oldDisk.length())
          : relative(disk(np));
      IndexRecord tomb = new IndexRecord(r.path(), r.diskPath(), null, 0, 0, null, ++seq);
      IndexRecord row = new IndexRecord(np, nd, r.entry(), r.statSize(), r.statMtimeNanos(), r.statKey(), ++seq);
      put(tomb);
      put(row);
      unsaved.add(tomb);
      unsaved.add(row);
    }
    saveIndex();
    return ApplyResult.ok(Entry.directory());
  }

  /** Test hook: runs right after {@link #writeFiles} or an upload wrote a file's temporary copy. */
  volatile java.util.function.Consumer<Path> afterTempWritten = tmp -> { };

  /** Test hook: runs right before a new file or link is renamed into place (after the re-check). */
  volatile Runnable beforeInstall = () -> { };

  /**
   * False once this side's file system refused the exclusive rename (a file system without the
   * flag): new files are then re-checked with a stat and renamed as before.
   */
  private volatile boolean exclusiveRename = true;

  /** The exclusive rename ({@link ExclusiveRename#rename}; tests stand in a file system without it). */
  interface ExclusiveRenamer {
    ExclusiveRename.Result rename(Path from, Path to) throws IOException;
  }

  volatile ExclusiveRenamer exclusiveRenamer = ExclusiveRename::rename;

  /** Renames a new file into place unless something is there ({@link ExclusiveRename}); removes {@code tmp} on failure. */
  private ExclusiveRename.Result renameNew(Path tmp, Path dest) throws IOException {
    ExclusiveRename.Result x;
    try {
      beforeInstall.run();
      x = exclusiveRenamer.rename(tmp, dest);
    } catch (IOException e) {
      removeTemp(tmp);
      throw e;
    }
    if (x == ExclusiveRename.Result.UNSUPPORTED) {
      exclusiveRename = false;
      log.info("{}: the file system has no exclusive rename; new files are re-checked with a stat first", root);
    }
    return x;
  }

  /** Renames {@code tmp} over {@code dest}, removing an empty directory that stood there. */
  private void replace(String path, Path tmp, Path dest, Entry expected) throws IOException {
    try {
      beforeInstall.run();
      if (expected != null && expected.isDirectory()) {
        Files.delete(dest);
        recordTree(path, dest);
      }
      Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      removeTemp(tmp);
      throw e;
    }
  }

  static boolean isExecutable(Path p) {
    try {
      return Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS).contains(PosixFilePermission.OWNER_EXECUTE);
    } catch (UnsupportedOperationException | IOException e) {
      return false;
    }
  }

  static void setExecutable(Path p, boolean exec) throws IOException {
    Set<PosixFilePermission> perms;
    try {
      perms = EnumSet.copyOf(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    } catch (UnsupportedOperationException e) {
      return;
    }
    if (perms.isEmpty()) {
      perms = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }
    PosixFilePermission[][] pairs = {
        {PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_EXECUTE},
        {PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_EXECUTE},
        {PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_EXECUTE}};
    for (PosixFilePermission[] pair : pairs) {
      if (exec && perms.contains(pair[0])) {
        perms.add(pair[1]);
      } else if (!exec) {
        perms.remove(pair[1]);
      }
    }
    Files.setPosixFilePermissions(p, perms);
  }

  @Override
  public Bulk bulkTo(Endpoint to) {
    return to.bulkFrom(this);
  }

  @Override
  public FileUpload beginWrite(String path, Entry expected, Entry target, int blockSize) throws IOException {
    PathNames.checkRelative(path);
    if (!target.isFile()) {
      throw new IllegalArgumentException("target: " + target + " (expected: a file)");
    }
    Path dest;
    synchronized (this) {
      dest = disk(path);
    }
    Path parent = dest.getParent();
    if (!Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
      pendingHints.add(path);
      return new RefusedUpload(path + ": parent directory is missing");
    }
    long free = freeSpace.reserve(parent, target.size());
    if (free >= 0 && free < target.size()) {
      throw diskFull(dest, target.size(), null);
    }
    try {
      return new DiskUpload(path, dest, expected, target, blockSize);
    } catch (NoSuchFileException e) {
      pendingHints.add(path);
      return new RefusedUpload(path + ": parent directory is missing");
    } catch (IOException e) {
      if (isNotDirectory(e)) {
        synchronized (this) {
          return new RefusedUpload(raced(path, e).message());
        }
      }
      throw DiskFullException.isNoSpace(e) ? diskFull(dest, target.size(), e) : e;
    }
  }

  /**
   * The words of {@link #diskFull}. The free space is read after the write failed: more than was
   * needed means other writes held it at the time (files written side by side) and gave it back.
   */
  static String diskFullMessage(String device, long needed, Path at, long free) {
    return diskFullMessage(device, needed, at, free, -1);
  }

  /**
   * As above; {@code freeInodes} 0 (of a known count) means the file system is out of inodes,
   * which refuses new files with the same error as a full disk while space is free.
   */
  static String diskFullMessage(String device, long needed, Path at, long free, long freeInodes) {
    if (freeInodes == 0) {
      return "disk full on " + device + ": no free inodes left for a new file at " + at
          + (free < 0 ? "" : " (" + free + " bytes free, but the file system can make no more files)")
          + "; delete files on that file system";
    }
    String room = free < 0 ? "" : needed > 0 && free >= needed
        ? " (" + free + " bytes free now: other writes held the space when this one failed)"
        : " (" + free + " bytes free)";
    return "disk full on " + device + ": " + needed + " bytes needed at " + at + room;
  }

  /** A one-line "disk full" error naming this side, the place and the bytes needed. */
  private DiskFullException diskFull(Path at, long needed, IOException cause) {
    Path dir = at.getParent() == null ? at : at.getParent();
    DiskFullException e = new DiskFullException(
        diskFullMessage(info.deviceName(), needed, at.toAbsolutePath(), FreeSpaceGauge.usableSpace(dir),
            FreeSpaceGauge.freeInodes(dir)));
    if (cause != null) {
      e.initCause(cause);
    }
    return e;
  }

  /** An upload that cannot land (its directory went away): swallows the bytes, answers CHANGED. */
  private static final class RefusedUpload implements FileUpload {
    private final String why;

    RefusedUpload(String why) {
      this.why = why;
    }

    @Override
    public void copyBasis(long firstBlock, long blockCount) {}

    @Override
    public void write(long offset, byte[] data) {}

    @Override
    public void copyStaged(String stagedName, long stagedOffset, long offset, long length) {}

    @Override
    public ApplyResult commit() {
      return ApplyResult.changed(why);
    }

    @Override
    public void close() {}
  }

  /**
   * Builds the new file in a temporary sibling. Parts arrive in increasing offset order, so
   * the whole-file hash (and the block fingerprints kept for the next delta) are computed as
   * the bytes go in: reused blocks are copied through this buffer rather than by the kernel
   * because that read is the only one they need, where a kernel copy would cost a second
   * full read to verify. Parts out of order (not sent by the coordinator) fall back to a
   * verifying re-read at commit.
   */
  private final class DiskUpload implements FileUpload {
    private final String path;
    private final Path dest;
    private final Path tmp;
    private final Entry expected;
    private final Entry target;
    private final int blockSize;
    private final FileChannel out;
    private final MessageDigest md = ContentHash.sha256();
    private final ContentHash.BlockHasher fingerprints;
    private long hashedTo;
    private boolean inOrder = true;
    private byte[] copyBuffer;
    private FileChannel basis;
    /** The staged file of {@link #copyStaged} (removed at the end), and its channel once opened. */
    private Path staged;
    private FileChannel stagedIn;
    private boolean done;
    private String raced;

    DiskUpload(String path, Path dest, Entry expected, Entry target, int blockSize) throws IOException {
      this.path = path;
      this.dest = dest;
      this.expected = expected;
      this.target = target;
      this.blockSize = blockSize;
      this.fingerprints = target.size() > blockSize ? new ContentHash.BlockHasher(blockSize) : null;
      this.tmp = dest.resolveSibling(tempName());
      this.out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
      // (a directory removed under us fails here with NoSuchFileException: beginWrite maps it)
    }

    @Override
    public void copyBasis(long firstBlock, long blockCount) throws IOException {
      if (raced != null) {
        return;
      }
      if (basis == null) {
        if (expected == null || !expected.isFile()) {
          throw new IOException(path + ": no basis file to copy blocks from");
        }
        try {
          basis = FileChannel.open(dest, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
          raced = path + ": the file to update vanished";
          return;
        }
      }
      long offset = firstBlock * blockSize;
      long end = Math.min(basis.size(), offset + blockCount * blockSize);
      if (offset >= end) {
        return;
      }
      if (inOrder && offset == hashedTo) {
        copyThrough(basis, offset, offset, end - offset, path + ": basis file shrank");
        return;
      }
      inOrder = false;
      try {
        for (long copied = 0; copied < end - offset; ) {
          long c = basis.transferTo(offset + copied, end - offset - copied, out.position(offset + copied));
          if (c <= 0) {
            throw new IOException(path + ": basis file shrank");
          }
          copied += c;
        }
      } catch (IOException e) {
        throw DiskFullException.isNoSpace(e) ? diskFull(dest, target.size(), e) : e;
      }
    }

    /** Copies {@code length} bytes of {@code in} from {@code from} to {@code offset} through the buffer. */
    private void copyThrough(FileChannel in, long from, long offset, long length, String shortRead) throws IOException {
      if (copyBuffer == null) {
        copyBuffer = new byte[Math.min(1 << 20, Math.max(blockSize, 256 * 1024))];
      }
      for (long done = 0; done < length; ) {
        ByteBuffer buf = ByteBuffer.wrap(copyBuffer, 0, (int) Math.min(copyBuffer.length, length - done));
        while (buf.hasRemaining()) {
          if (in.read(buf, from + done + buf.position()) < 0) {
            throw new IOException(shortRead);
          }
        }
        put(offset + done, copyBuffer, buf.position());
        done += buf.position();
      }
    }

    @Override
    public void write(long offset, byte[] data) throws IOException {
      put(offset, data, data.length);
    }

    @Override
    public void copyStaged(String stagedName, long stagedOffset, long offset, long length) throws IOException {
      if (stagedName.contains("/") || !stagedName.startsWith(IgnoreRules.TEMP_PREFIX)) {
        throw new IllegalArgumentException("staged name: " + stagedName + " (expected: a name starting with "
            + IgnoreRules.TEMP_PREFIX + ")");
      }
      Path p = dest.resolveSibling(stagedName);
      if (staged == null) {
        staged = p; // removed at the end even if nothing is copied from it
      } else if (!staged.equals(p)) {
        throw new IllegalArgumentException("staged name: " + stagedName + " (expected: " + staged.getFileName()
            + ", the one staged file of this write)");
      }
      if (raced != null) {
        return;
      }
      if (stagedIn == null) {
        try {
          stagedIn = FileChannel.open(staged, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
          raced = path + ": its staged blocks are gone";
          return;
        }
      }
      copyThrough(stagedIn, stagedOffset, offset, length, path + ": its staged blocks end before byte "
          + (stagedOffset + length));
    }

    private void put(long offset, byte[] data, int length) throws IOException {
      if (inOrder && offset == hashedTo) {
        md.update(data, 0, length);
        if (fingerprints != null) {
          fingerprints.update(data, 0, length);
        }
        hashedTo += length;
      } else {
        inOrder = false;
      }
      ByteBuffer buf = ByteBuffer.wrap(data, 0, length);
      try {
        while (buf.hasRemaining()) {
          out.write(buf, offset + buf.position());
        }
      } catch (IOException e) {
        throw DiskFullException.isNoSpace(e) ? diskFull(dest, target.size(), e) : e;
      }
    }

    @Override
    public ApplyResult commit() throws IOException {
      try {
        if (raced != null) {
          pendingHints.add(path);
          return ApplyResult.changed(raced);
        }
        out.truncate(target.size());
        String hash;
        byte[] blocks;
        long length;
        if (inOrder && hashedTo == target.size()) {
          hash = ContentHash.hex(md.digest());
          blocks = fingerprints == null ? null : fingerprints.finish();
          length = hashedTo;
        } else {
          MessageDigest full = ContentHash.sha256();
          ContentHash.BlockHasher fp = fingerprints == null ? null : new ContentHash.BlockHasher(blockSize);
          ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
          long pos = 0;
          int n;
          while ((n = out.read(buf.clear(), pos)) >= 0) {
            pos += n;
            full.update(buf.array(), 0, n);
            if (fp != null) {
              fp.update(buf.array(), 0, n);
            }
          }
          hash = ContentHash.hex(full.digest());
          blocks = fp == null ? null : fp.finish();
          length = pos;
        }
        out.close();
        if (basis != null) {
          basis.close();
        }
        if (length != target.size() || !hash.equals(target.hash())) {
          return ApplyResult.changed(path + ": content changed while it was being sent");
        }
        afterTempWritten.accept(tmp);
        try {
          setExecutable(tmp, target.executable());
          if (target.mtimeMillis() > 0) {
            NativeTimes.setModified(tmp, FileTime.fromMillis(target.mtimeMillis()));
          }
        } catch (IOException e) {
          if (!isRace(e)) {
            throw e;
          }
          synchronized (DiskEndpoint.this) {
            return raced(path, e); // the directory was removed, and our temporary file with it
          }
        }
        ApplyResult r = install(path, tmp, expected, target, blocks, blockSize, null);
        done = r.outcome() == ApplyResult.Outcome.OK;
        return r;
      } finally {
        close();
      }
    }

    @Override
    public void close() throws IOException {
      if (out.isOpen()) {
        out.close();
      }
      if (basis != null && basis.isOpen()) {
        basis.close();
      }
      if (stagedIn != null) {
        stagedIn.close();
      }
      if (staged != null) {
        removeTemp(staged);
      }
      if (!done) {
        removeTemp(tmp);
      }
    }
  }

  /** Entries currently live in the index (for tests and status). */
  public synchronized Map<String, Entry> snapshot() {
    Map<String, Entry> out = new TreeMap<>();
    for (IndexRecord r : index.values()) {
      if (r.entry() != null) {
        out.put(r.path(), r.entry());
      }
    }
    return out;
  }

  @Override
  public synchronized void close() throws IOException {
    try {
      if (watcher != null) {
        watcher.close();
      }
      saveIndex();
    } finally {
      store.close();
    }
  }

  /** Why this side's tree is not watched (see {@link TreeWatcher#problem()}), or null. */
  String watchProblem() {
    return watcher == null ? null : watcher.problem();
  }
}
