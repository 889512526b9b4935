package dev.thunderlink.daemon.cp;

import dev.thunderlink.proto.bulk.FileEntry;
import dev.thunderlink.proto.bulk.MakeEntry;
import dev.thunderlink.proto.bulk.MakeResult;
import dev.thunderlink.transport.bulk.BulkException;
import dev.thunderlink.transport.bulk.BulkSession;
import dev.thunderlink.transport.bulk.PullItem;
import dev.thunderlink.transport.bulk.PushItem;
import dev.thunderlink.transport.bulk.TransferListener;
import dev.thunderlink.transport.bulk.TransferResult;
import dev.thunderlink.transport.bulk.internal.FileSender;
import dev.thunderlink.transport.bulk.internal.Symlinks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The logic of {@code thunderlink cp}: plans which files go where (scp/cp conventions: into an
 * existing directory under the source's name, otherwise as the named path), skips files that
 * are already identical (same size, mtime and executable bit), recreates a tree's directories
 * (empty ones too) and its symbolic links whose relative target stays inside the tree
 * (others are reported, one line each, and never followed), moves the files through one
 * bulk session, and — when the path to the host fails mid-way — waits for the link to come
 * back on any path and resumes the unfinished files from the bytes the receiver kept.
 *
 * <p>Runs on the calling thread (blocking); {@link #cancel()} from any other thread.
 */
public final class Copier {
  private static final int MAX_ATTEMPTS = 20;

  private final CpLink.Connected link;
  /**
   * Host directories this copy created (they did not exist before): files planned straight
   * into them cannot be on the host yet, so the first attempt pushes them without a Stat call
   * (for a new 20,000-file tree that Stat was seconds of round trips and host lookups).
   */
  private final java.util.Set<String> freshDirs = new java.util.HashSet<>();
  private boolean firstAttempt = true;
  private final Duration failoverTimeout;
  private volatile BulkSession current;
  /**
   * The planning's session, which the first transfer attempt takes over: a session of its own
   * cost every copy another gRPC call, stream, connection and hello before its first byte.
   */
  private BulkSession spare;
  private volatile boolean cancelled;

  /**
   * @param failoverTimeout how long to wait for a path to come back before giving up on the
   *     files still unfinished
   */
  public Copier(CpLink.Connected link, Duration failoverTimeout) {
    this.link = link;
    this.failoverTimeout = failoverTimeout;
  }

  /** A copy that cannot start (bad host path, no link); one line. */
  public static final class CopyException extends Exception {
    private static final long serialVersionUID = 1L;

    public CopyException(String message) {
      super(message);
    }
  }

  /**
   * One file to copy. {@code attributes} (push) are the walk's, handed to the first send so a
   * file is looked at once, not again per step (a 20,000-file tree paid five stats a file).
   */
  private record Plan(Path local, String remote, long size, BasicFileAttributes attributes) {
    Plan(Path local, String remote, long size) {
      this(local, remote, size, null);
    }
  }

  /** POSIX attributes (size, mtime and the executable bit from one stat) where there are any. */
  private static BasicFileAttributes attributes(Path f) throws IOException {
    try {
      return Files.readAttributes(f, java.nio.file.attribute.PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (UnsupportedOperationException e) {
      return Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    }
  }

  /** Stops the copy: the file in flight is cancelled, the rest are not started. */
  public void cancel() {
    cancelled = true;
    BulkSession s = current;
    if (s != null) {
      s.cancel();
    }
  }

  /** Progress of a copy; called from several threads (see {@link TransferListener}). */
  public interface Listener extends TransferListener {
    /** The plan is made: this many files and bytes will be transferred at most. */
    default void planned(long files, long bytes) {}

    /**
     * The transfer stopped ({@code why}: the path died, the host is shutting down) and the copy
     * waits up to {@code upTo} for a path to the host before resuming the unfinished files.
     */
    default void waitingForHost(String why, Duration upTo) {}
  }

  public CopyReport copy(CpSpec spec, Listener listener) throws CopyException, InterruptedException {
    return copy(spec, listener, walkAhead(spec));
  }

  /**
   * The directories a push copies, walked on a thread of their own from {@link #walkAhead} on,
   * so that the walk (a stat per entry: for 20,000 files 0.3-0.4 s of CPU, and seconds when the
   * inodes are not cached) overlaps with connecting to the host instead of following it.
   */
  public static final class LocalWalk {
    private final Map<Path, FutureTask<List<Walked>>> dirs = new LinkedHashMap<>();

    /** The entries under {@code dir}, like {@link Copier#walk}: walked ahead, or now. */
    List<Walked> entries(Path dir) throws IOException, InterruptedException {
      FutureTask<List<Walked>> f = dirs.get(dir);
      if (f == null) {
        return walk(dir);
      }
      try {
        return f.get();
      } catch (ExecutionException e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        throw (Error) e.getCause();
      }
    }
  }

  /** Starts walking the source directories of a push (none for a pull); see {@link LocalWalk}. */
  public static LocalWalk walkAhead(CpSpec spec) {
    LocalWalk w = new LocalWalk();
    if (spec.push()) {
      for (String src : spec.sources()) {
        Path p = Path.of(src).toAbsolutePath().normalize();
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          w.dirs.putIfAbsent(p, new FutureTask<>(() -> walk(p)));
        }
      }
    }
    if (!w.dirs.isEmpty()) {
      Thread t = new Thread(() -> w.dirs.values().forEach(FutureTask::run), "thunderlink-cp-walk");
      t.setDaemon(true);
      t.start();
    }
    return w;
  }

  /** A copy whose source directories {@code ahead} walks (from {@link #walkAhead} of the same spec). */
  public CopyReport copy(CpSpec spec, Listener listener, LocalWalk ahead) throws CopyException, InterruptedException {
    long t0 = System.nanoTime();
    List<CopyReport.Entry> entries = new ArrayList<>();
    List<Plan> plan = new ArrayList<>();
    Outcome o = new Outcome();
    Tree tree = new Tree();
    BulkSession first = openSession(null);
    spare = first;
    try {
      o.encrypted = first.encrypted();
      o.digest = first.digestName();
      if (spec.push()) {
        planPush(first, spec, ahead, plan, entries, tree);
        makeOnHost(first, tree, entries, o);
      } else {
        planPull(first, spec, plan, entries, tree);
        o.directories = tree.directories;
      }
      long total = 0;
      for (Plan p : plan) {
        total += p.size();
      }
      listener.planned(plan.size(), total);
      transfer(spec.push(), plan, listener, entries, o);
    } finally {
      if (spare != null) { // not taken over: planning failed or nothing to transfer
        spare.close();
        spare = null;
      }
    }
    if (!spec.push()) {
      // after the files, so that no pulled file is ever written through a link just made
      makeLocalLinks(tree, entries);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    long bytes = 0;
    long copied = 0;
    long skipped = 0;
    long failed = 0;
    for (CopyReport.Entry e : entries) {
      bytes += e.sent();
      if (e.error() != null) {
        failed++;
      } else if (e.skipped()) {
        skipped++;
      } else {
        copied++;
      }
    }
    return new CopyReport(
        spec.push() ? "push" : "pull", entries.size(), copied, skipped, failed, o.directories, bytes, seconds,
        seconds > 0 ? bytes / seconds / (1024 * 1024) : 0, o.encrypted, o.digest, o.attempts, false, entries);
  }

  /** What the transfer loop learns beyond per-file results. */
  private static final class Outcome {
    boolean encrypted;
    String digest;
    int attempts;
    long directories;
  }

  /** Directories and symbolic links of the copied trees (not files). */
  private static final class Tree {
    /** Push: host directories and links, in walk order (parents first). */
    final List<MakeEntry> make = new ArrayList<>();
    /** Push: the local path of each entry of {@link #make}, for the report. */
    final List<Path> makeLocal = new ArrayList<>();
    /** Pull: links to create once the files are in, with the host path each came from. */
    final List<Link> links = new ArrayList<>();
    /** Pull: local directories created or present. */
    long directories;
  }

  private record Link(Path local, String target, String remote) {}

  private static String under(String base, String rel) {
    return rel.isEmpty() ? base : join(base, rel);
  }

  private void makeOnHost(BulkSession s, Tree tree, List<CopyReport.Entry> entries, Outcome o) throws CopyException {
    if (tree.make.isEmpty()) {
      return;
    }
    List<MakeResult> results;
    try {
      results = s.make(tree.make);
    } catch (BulkException e) {
      throw new CopyException("cp: " + e.getMessage());
    }
    for (int i = 0; i < results.size(); i++) {
      MakeEntry m = tree.make.get(i);
      MakeResult r = results.get(i);
      String src = tree.makeLocal.get(i).toString();
      String dst = "host:" + m.getPath();
      String error = r.getError().isEmpty() ? null : r.getError();
      if (m.getSymlinkTarget().isEmpty()) {
        if (error == null && !r.getExisted()) {
          freshDirs.add(m.getPath());
        }
        if (error == null) {
          o.directories++;
        } else {
          entries.add(new CopyReport.Entry(src, dst, 0, 0, null, false, error));
        }
      } else {
        entries.add(new CopyReport.Entry(src, dst, 0, 0, error == null ? "symlink" : null, error == null && r.getExisted(), error));
      }
    }
  }

  private static void makeLocalLinks(Tree tree, List<CopyReport.Entry> entries) {
    for (Link l : tree.links) {
      String src = "host:" + l.remote();
      try {
        boolean same = Symlinks.place(l.local(), l.target());
        entries.add(new CopyReport.Entry(src, l.local().toString(), 0, 0, "symlink", same, null));
      } catch (IOException e) {
        entries.add(new CopyReport.Entry(src, l.local().toString(), 0, 0, null, false, "cannot create symbolic link " + l.local() + ": " + e.getMessage()));
      }
    }
  }

  // ---- planning ------------------------------------------------------------------------

  private static String join(String dir, String name) {
    return dir.endsWith("/") ? dir + name : dir + "/" + name;
  }

  private void planPush(BulkSession s, CpSpec spec, LocalWalk ahead, List<Plan> plan, List<CopyReport.Entry> entries, Tree tree)
      throws CopyException, InterruptedException {
    FileEntry dest = stat(s, List.of(spec.destination())).get(0);
    if (!dest.getError().isEmpty()) {
      throw new CopyException("cp: " + dest.getError());
    }
    boolean destIsDir = dest.getExists() && dest.getDirectory();
    boolean many = spec.sources().size() > 1;
    if (many && !destIsDir) {
      throw new CopyException(
          "cp: host:" + spec.destination() + " is not a directory on the host (expected: an existing directory for " + spec.sources().size() + " sources)");
    }
    for (String src : spec.sources()) {
      Path p = Path.of(src).toAbsolutePath().normalize();
      if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        entries.add(new CopyReport.Entry(src, null, 0, 0, null, false, "no such file or directory: " + src));
        continue;
      }
      String name = p.getFileName() == null ? "root" : p.getFileName().toString();
      String base = destIsDir || spec.destination().endsWith("/") ? join(spec.destination(), name) : spec.destination();
      if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        try {
          for (Walked w : ahead.entries(p)) {
            Path f = w.path();
            BasicFileAttributes a = w.attributes();
            String rel = p.relativize(f).toString().replace('\\', '/');
            if (a.isRegularFile()) {
              plan.add(new Plan(f, join(base, rel), a.size(), a));
            } else if (a.isDirectory()) {
              tree.make.add(MakeEntry.newBuilder().setPath(under(base, rel)).build());
              tree.makeLocal.add(f);
            } else if (a.isSymbolicLink()) {
              String target = Files.readSymbolicLink(f).toString();
              String refused = Symlinks.refusal(rel, target);
              if (refused != null) {
                entries.add(new CopyReport.Entry(f.toString(), "host:" + join(base, rel), 0, 0, null, false, refused));
              } else {
                tree.make.add(MakeEntry.newBuilder().setPath(join(base, rel)).setSymlinkTarget(target).build());
                tree.makeLocal.add(f);
              }
            }
          }
        } catch (IOException | java.io.UncheckedIOException | java.nio.file.DirectoryIteratorException e) {
          entries.add(new CopyReport.Entry(src, base, 0, 0, null, false, "cannot read " + src + ": " + e.getMessage()));
        }
      } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        try {
          BasicFileAttributes a = attributes(p);
          plan.add(new Plan(p, base, a.size(), a));
        } catch (IOException e) {
          entries.add(new CopyReport.Entry(src, base, 0, 0, null, false, "cannot read " + src + ": " + e.getMessage()));
        }
      } else {
        entries.add(new CopyReport.Entry(src, base, 0, 0, null, false, "not a regular file or directory: " + src));
      }
    }
  }

  record Walked(Path path, BasicFileAttributes attributes) {}

  /**
   * Every entry under {@code top} (itself first), sorted by path like {@code
   * Files.walk(top).sorted()}, links not followed, each with its attributes from one lstat.
   * Files.walk stats every entry itself and cp then needed the POSIX attributes (the
   * executable bit) on top: two stats a file, 40,000 for a 20,000-file tree.
   */
  static List<Walked> walk(Path top) throws IOException {
    List<Walked> out = new ArrayList<>();
    out.add(new Walked(top, attributes(top)));
    java.util.ArrayDeque<Path> dirs = new java.util.ArrayDeque<>();
    dirs.push(top);
    while (!dirs.isEmpty()) {
      try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dirs.pop())) {
        for (Path c : ds) {
          BasicFileAttributes a = attributes(c);
          out.add(new Walked(c, a));
          if (a.isDirectory()) {
            dirs.push(c);
          }
        }
      }
    }
    out.sort(java.util.Comparator.comparing(Walked::path));
    return out;
  }

  private void planPull(BulkSession s, CpSpec spec, List<Plan> plan, List<CopyReport.Entry> entries, Tree tree)
      throws CopyException {
    String src = spec.sources().get(0);
    List<FileEntry> listed;
    try {
      listed = s.list(src);
    } catch (BulkException e) {
      throw new CopyException("cp: " + e.getMessage());
    }
    String trimmed = src.replaceAll("/+$", "");
    String name = trimmed.contains("/") ? trimmed.substring(trimmed.lastIndexOf('/') + 1) : trimmed;
    Path local = Path.of(spec.destination()).toAbsolutePath().normalize();
    boolean localIsDir = Files.isDirectory(local);
    if (listed.size() == 1 && listed.get(0).getPath().isEmpty() && !listed.get(0).getDirectory()) {
      FileEntry e = listed.get(0);
      Path target = localIsDir || spec.destination().endsWith("/") ? local.resolve(name) : local;
      planPullFile(src, target, e, plan, entries);
      return;
    }
    // a trailing slash means "into this directory" as for a single file and for a push
    Path base = localIsDir || spec.destination().endsWith("/") ? local.resolve(name) : local;
    for (FileEntry e : listed) {
      Path target = base.resolve(e.getPath()).normalize();
      String remote = under(trimmed, e.getPath());
      if (!target.startsWith(base)) {
        entries.add(new CopyReport.Entry(remote, target.toString(), e.getSize(), 0, null, false,
            "refused: host path " + e.getPath() + " leads outside " + base));
        continue;
      }
      if (!e.getSymlinkTarget().isEmpty()) {
        String refused = Symlinks.refusal(e.getPath(), e.getSymlinkTarget());
        if (refused != null) {
          entries.add(new CopyReport.Entry("host:" + remote, target.toString(), 0, 0, null, false, refused));
        } else {
          tree.links.add(new Link(target, e.getSymlinkTarget(), remote));
        }
        continue;
      }
      if (e.getDirectory()) {
        try {
          Files.createDirectories(target);
          tree.directories++;
        } catch (IOException ex) {
          entries.add(new CopyReport.Entry(remote, target.toString(), 0, 0, null, false, "cannot create " + target + ": " + ex.getMessage()));
        }
        continue;
      }
      planPullFile(remote, target, e, plan, entries);
    }
  }

  private static void planPullFile(String remote, Path target, FileEntry e, List<Plan> plan, List<CopyReport.Entry> entries) {
    try {
      if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
          && Files.size(target) == e.getSize()
          && Files.getLastModifiedTime(target).toMillis() == e.getMtimeMillis()
          && FileSender.isExecutable(target) == e.getExecutable()) {
        entries.add(new CopyReport.Entry(remote, target.toString(), e.getSize(), 0, null, true, null));
        return;
      }
    } catch (IOException ex) {
      // compare failed: copy it
    }
    plan.add(new Plan(target, remote, e.getSize()));
  }

  // ---- transfer with failover -------------------------------------------------------------

  private void transfer(boolean push, List<Plan> plan, Listener listener, List<CopyReport.Entry> entries, Outcome o)
      throws InterruptedException {
    List<Plan> todo = plan;
    long giveUpAt = 0;
    String lastError = null;
    while (!todo.isEmpty()) {
      if (cancelled || o.attempts >= MAX_ATTEMPTS || (giveUpAt != 0 && System.nanoTime() > giveUpAt)) {
        String why = cancelled ? "cancelled" : "the link to the host did not come back: " + lastError;
        for (Plan p : todo) {
          entries.add(entry(push, p, new TransferResult(p.remote(), p.size(), 0, null, false, why, false)));
        }
        return;
      }
      o.attempts++;
      BulkSession s;
      try {
        s = spare != null ? spare : openSession(giveUpAt);
        spare = null;
      } catch (CopyException e) {
        lastError = e.getMessage();
        if (giveUpAt == 0) {
          giveUpAt = System.nanoTime() + failoverTimeout.toNanos();
        }
        continue;
      }
      List<TransferResult> results;
      try {
        current = s;
        o.encrypted |= s.encrypted();
        o.digest = s.digestName();
        results = push ? push(s, todo, listener) : s.pull(pullItems(todo), listener);
      } catch (BulkException e) {
        lastError = e.getMessage();
        results = null;
        if (!e.retryable()) {
          for (Plan p : todo) {
            entries.add(entry(push, p, new TransferResult(p.remote(), p.size(), 0, null, false, e.getMessage(), false)));
          }
          return;
        }
      } finally {
        current = null;
        s.close();
      }
      List<Plan> again = new ArrayList<>();
      boolean progress = false;
      for (int i = 0; i < todo.size(); i++) {
        TransferResult r = results == null ? null : results.get(i);
        if (r == null || (r.retryable() && !cancelled)) {
          again.add(todo.get(i));
          if (r != null) {
            lastError = r.error();
          }
        } else {
          progress |= r.ok();
          entries.add(entry(push, todo.get(i), r));
        }
      }
      if (!again.isEmpty()) {
        if (progress || giveUpAt == 0) {
          giveUpAt = System.nanoTime() + failoverTimeout.toNanos();
        }
        long left = giveUpAt - System.nanoTime();
        if (left > 0) {
          listener.waitingForHost(lastError, Duration.ofNanos(left));
          link.awaitPath(Duration.ofNanos(left));
        }
      }
      todo = again;
    }
  }

  private List<TransferResult> push(BulkSession s, List<Plan> todo, TransferListener listener) throws BulkException {
    boolean first = firstAttempt;
    firstAttempt = false; // a retry may find partial files anywhere: it asks the host about all
    List<String> remotes = new ArrayList<>();
    for (Plan p : todo) {
      if (!(first && inFreshDirectory(p.remote()))) {
        remotes.add(p.remote());
      }
    }
    List<FileEntry> st = s.stat(remotes);
    List<PushItem> items = new ArrayList<>();
    int k = 0;
    for (Plan p : todo) {
      FileEntry known = first && inFreshDirectory(p.remote()) ? null : st.get(k++);
      // the walk's attributes only on the first attempt: a retry looks again
      items.add(new PushItem(p.local(), p.remote(), known, first ? p.attributes() : null));
    }
    return s.push(items, listener);
  }

  private boolean inFreshDirectory(String remote) {
    int slash = remote.lastIndexOf('/');
    return slash > 0 && freshDirs.contains(remote.substring(0, slash));
  }

  private static List<PullItem> pullItems(List<Plan> todo) {
    List<PullItem> items = new ArrayList<>();
    for (Plan p : todo) {
      items.add(new PullItem(p.remote(), p.local(), p.size()));
    }
    return items;
  }

  private static CopyReport.Entry entry(boolean push, Plan p, TransferResult r) {
    String src = push ? p.local().toString() : "host:" + p.remote();
    String dst = push ? "host:" + p.remote() : p.local().toString();
    return new CopyReport.Entry(
        src, dst, p.size(), r.sentBytes(), r.mode() == null ? null : r.mode().cliName(), r.skipped(), r.error());
  }

  private List<FileEntry> stat(BulkSession s, List<String> paths) throws CopyException {
    try {
      return s.stat(paths);
    } catch (BulkException e) {
      throw new CopyException("cp: " + e.getMessage());
    }
  }

  private BulkSession openSession(Long giveUpAt) throws CopyException, InterruptedException {
    long deadline = giveUpAt != null && giveUpAt != 0 ? giveUpAt : System.nanoTime() + failoverTimeout.toNanos();
    while (true) {
      try {
        return link.client().open();
      } catch (BulkException e) {
        long left = deadline - System.nanoTime();
        if (!e.retryable() || left <= 0 || cancelled) {
          throw new CopyException("cp: " + e.getMessage());
        }
        if (!link.awaitPath(Duration.ofNanos(left))) {
          throw new CopyException("cp: " + e.getMessage());
        }
        // a path is up (again) but may still be settling: back off before the next try
        java.util.concurrent.TimeUnit.MILLISECONDS.sleep(200);
      }
    }
  }
}
