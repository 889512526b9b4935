package dev.thunderlink.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random operations on both sides (create, modify, append, delete, rename, mkdir,
 * rmdir, chmod +x, symlink), then flush; the trees must be identical and every content last
 * written on either side must still exist somewhere (in place or as a conflict copy).
 *
 * <p>Replay a failure with {@code -Dsync.random.seed=N}; run a soak with
 * {@code -Dsync.random.rounds=500}. The operations include a {@code touch} (a time alone).
 * Every fourth round runs with {@code d1/} ignored, then un-ignores it: what either side had
 * there must survive (a deletion made while ignored is undone from the other side).
 * Every sixth round the workstation's session is closed while both sides edit and started
 * again from its state database before they sync (every twelfth the host's service too); in
 * another of every six, a live one, it is closed and started again while it applies their edits.
 * Half the rounds run with the session paused while both
 * sides edit (a true concurrent-edit window, where the content property is checked for every
 * path a side really changed, not one it renamed away and back), the
 * others with watchers live while both sides edit (convergence checked). {@code
 * -Dsync.random.mode=TWO_WAY_RESOLVED} (or {@code ONE_WAY_REPLICA}) runs the same rounds in
 * another mode; there one side's edits may rightly be overwritten, so only convergence is
 * checked. {@code -Dsync.random.ignore=gitignore} puts the rule in the root's {@code .gitignore}
 * instead of its {@code .thunderlinkignore}.
 */
class RandomizedSyncTest {
  @TempDir
  Path tmp;

  @Test
  void randomConcurrentEditsConvergeAndLoseNothing() throws Exception {
    long seed = Long.getLong("sync.random.seed", System.nanoTime());
    int rounds = Integer.getInteger("sync.random.rounds", 12);
    SyncMode mode = SyncMode.valueOf(System.getProperty("sync.random.mode", "TWO_WAY_SAFE")
        .toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    System.out.println("RandomizedSyncTest seed=" + seed + " mode=" + mode + " rounds=" + rounds
        + " fs=" + System.getProperty("sync.random.fs", "real") + " rules=" + IGNORE_FILE
        + " (replay with -Dsync.random.seed=" + seed + ")");
    Random rnd = new Random(seed);
    // -Dsync.random.fs=macos-jimfs: the local side on a case-insensitive, NFD-normalising Jimfs
    java.nio.file.FileSystem jimfs = "macos-jimfs".equals(System.getProperty("sync.random.fs"))
        ? SyncPair.macJimfs() : null;
    Path a = Files.createDirectories(jimfs == null ? tmp.resolve("a") : jimfs.getPath("/a"));
    Path b = Files.createDirectories(tmp.resolve("b"));
    Host host = new Host(tmp.resolve("host-state"));
    SyncSessionConfig config = SyncSessionConfig.builder("rnd").localRoot(a).remoteRoot(b.toString())
        .mode(mode).stateDir(tmp.resolve("ws-state")).deviceName("book").blockSize(4096).safetyMinimumEntries(1_000_000)
        .useGitignoreFiles(IGNORE_FILE.equals(".gitignore")).build();
    SyncSession s = SyncSession.start(config, host.channel);
    try {
      for (int round = 0; round < rounds; round++) {
        boolean offline = round % 2 == 0;
        log.debug("=== round {} {}", round, offline ? "offline" : "live");
        if (offline) {
          s.pause();
        }
        // both sides equal the ancestor here (the last round flushed); offline, nothing syncs until resume
        // every fourth round (a live one) runs with d1/ ignored, then lets it go again
        boolean ignoring = round % 4 == 3;
        if (ignoring) {
          Files.write(a.resolve(IGNORE_FILE), "d1/\n".getBytes(UTF_8));
          s.flush(Duration.ofSeconds(60));
          assertThat(SyncPair.tree(b)).as("seed " + seed).containsEntry(IGNORE_FILE, "d1/\n");
        }
        Map<String, String> before = offline ? SyncPair.tree(a) : Map.of();
        Side sa = new Side(a, "A" + round, new Random(rnd.nextLong()));
        Side sb = new Side(b, "B" + round, new Random(rnd.nextLong()));
        int opsA = 1 + rnd.nextInt(15);
        int opsB = 1 + rnd.nextInt(15);
        Thread ta = new Thread(() -> sa.run(opsA));
        Thread tb = new Thread(() -> sb.run(opsB));
        java.util.concurrent.CountDownLatch applying = new java.util.concurrent.CountDownLatch(1);
        boolean restartMidSync = !offline && round % 6 == 1;
        AutoCloseable watch = restartMidSync ? s.subscribe(c -> {
          if (c.kind() == SyncChange.Kind.APPLIED) {
            applying.countDown();
          }
        }) : () -> { };
        ta.start();
        tb.start();
        if (restartMidSync) {
          // the workstation's daemon restarts while the session applies the round's first edits
          // (or after 5 s, if they made no change) and both sides may still be editing
          applying.await(5, TimeUnit.SECONDS);
          watch.close();
          log.debug("=== restart while syncing");
          s.close();
          s = SyncSession.start(config, host.channel);
        }
        ta.join();
        tb.join();
        assertThat(sa.failure).as("ops on a, seed " + seed).isNull();
        assertThat(sb.failure).as("ops on b, seed " + seed).isNull();
        Map<String, Map<String, String>> edited = new HashMap<>();
        if (offline) {
          edited.put(sa.tag, SyncPair.tree(a));
          edited.put(sb.tag, SyncPair.tree(b));
          if (round % 6 == 4) {
            // both sides edited while the workstation's daemon was down (and every other time
            // the host's too): the sessions start again from their state databases
            log.debug("=== restart{}", round % 12 == 4 ? " with the host" : "");
            s.close();
            if (round % 12 == 4) {
              host.close();
              host = new Host(tmp.resolve("host-state"));
            }
            s = SyncSession.start(config, host.channel);
          }
          s.resume(false);
        }
        s.flush(Duration.ofSeconds(60));
        if (ignoring) {
          Map<String, String> whileA = SyncPair.tree(a);
          Map<String, String> whileB = SyncPair.tree(b);
          assertThat(outside(whileA, "d1")).as("round " + round + " seed " + seed + ": what is not ignored syncs")
              .isEqualTo(outside(whileB, "d1"));
          Files.delete(a.resolve(IGNORE_FILE));
          s.flush(Duration.ofSeconds(60));
          if (mode == SyncMode.TWO_WAY_SAFE) {
            // what either side had in d1/ when the rules let it go, a deletion made there while
            // it was ignored included, is still somewhere: nothing the other side kept is lost
            Map<String, String> after = SyncPair.tree(a);
            for (Map<String, String> side : List.of(whileA, whileB)) {
              for (Map.Entry<String, String> e : side.entrySet()) {
                String v = e.getValue();
                if (e.getKey().startsWith("d1/") && !v.equals("dir") && !v.startsWith("link:")) {
                  String c = v.startsWith("+x:") ? v.substring(3) : v;
                  assertThat(after.values().stream().anyMatch(x -> x.equals(c) || x.equals("+x:" + c)))
                      .as("round %d seed %d: %s (%s) of the ignored folder is kept; tree now %s", round, seed,
                          e.getKey(), c, after)
                      .isTrue();
                }
              }
            }
          }
        }
        Map<String, String> ta2 = SyncPair.tree(a);
        assertThat(ta2).as("round " + round + " seed " + seed + " status " + s.status()).isEqualTo(SyncPair.tree(b));
        if (offline && mode == SyncMode.TWO_WAY_SAFE) {
          for (Side side : List.of(sa, sb)) {
            for (Map.Entry<String, String> w : side.lastWritten.entrySet()) {
              if (java.util.Objects.equals(before.get(w.getKey()), edited.get(side.tag).get(w.getKey()))) {
                // a net no-op on this side (renamed away and back, say): no edit, the other side may overwrite it
                continue;
              }
              assertThat(ta2.values().stream().anyMatch(v -> v.equals(w.getValue()) || v.equals("+x:" + w.getValue())))
                  .as("round %d seed %d: content %s last written to %s on %s is kept; tree now %s", round, seed,
                      w.getValue(), w.getKey(), side.tag, ta2)
                  .isTrue();
            }
          }
        }
        assertThat(s.status().errors()).as("seed " + seed).isEmpty();
      }
    } finally {
      s.close();
      host.close();
      if (jimfs != null) {
        jimfs.close();
      }
    }
  }

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("dev.thunderlink.sync.test");
  /**
   * The rounds' rule file: the root's {@code .thunderlinkignore}, or with {@code
   * -Dsync.random.ignore=gitignore} the root's {@code .gitignore} (read as the session reads the
   * tree's .gitignore files).
   */
  private static final String IGNORE_FILE = "gitignore".equals(System.getProperty("sync.random.ignore"))
      ? ".gitignore" : dev.thunderlink.sync.internal.IgnoreRules.IGNORE_FILE;

  /** The tree without {@code dir} and what is in it, nor the rule file. */
  private static Map<String, String> outside(Map<String, String> tree, String dir) {
    Map<String, String> out = new java.util.TreeMap<>(tree);
    out.keySet().removeIf(k -> k.equals(dir) || k.startsWith(dir + "/") || k.equals(IGNORE_FILE));
    return out;
  }

  private static String h(String content) {
    return dev.thunderlink.sync.internal.ContentHash.of(content.getBytes(UTF_8)).substring(0, 8);
  }

  /** The host's side: its sync service behind a real gRPC server, and a channel to it. */
  private static final class Host {
    final SyncHostService service;
    final Server server;
    final ManagedChannel channel;

    Host(Path state) throws IOException {
      service = new SyncHostService(state, "mini", true, Duration.ofMillis(10));
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build().start();
      channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    void close() throws InterruptedException {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
      service.close();
    }
  }

  /** One side's random editor; runs on its own thread. */
  private static final class Side {
    final Path root;
    final String tag;
    final Random rnd;
    final Map<String, String> lastWritten = new HashMap<>();
    int counter;
    Throwable failure;

    Side(Path root, String tag, Random rnd) {
      this.root = root;
      this.tag = tag;
      this.rnd = rnd;
    }

    void run(int ops) {
      try {
        for (int i = 0; i < ops; i++) {
          step();
        }
      } catch (Throwable t) {
        failure = t;
      }
    }

    private String randomDir() {
      return switch (rnd.nextInt(4)) {
        case 0 -> "";
        case 1 -> "d0";
        case 2 -> "d1";
        default -> "d0/e";
      };
    }

    private String randomFile() {
      String d = randomDir();
      String f = "f" + rnd.nextInt(4) + ".txt";
      return d.isEmpty() ? f : d + "/" + f;
    }

    private String content() {
      return tag + "-" + (counter++) + "-" + Long.toHexString(rnd.nextLong());
    }

    private List<Path> existingFiles() throws IOException {
      List<Path> out = new ArrayList<>();
      try {
        // the other side's sync is changing the tree under us: what vanished is simply not listed
        for (Path p : SyncPair.walk(root, true)) {
          if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
              && !p.getFileName().toString().equals(IGNORE_FILE)) { // the rounds' own rule file
            out.add(p);
          }
        }
      } catch (java.nio.file.NoSuchFileException e) {
        // the root itself is gone for now; try again next step
      }
      return out;
    }

    private String rel(Path p) {
      return root.relativize(p).toString();
    }

    private void forget(String relPath) {
      lastWritten.keySet().removeIf(k -> k.equals(relPath) || k.startsWith(relPath + "/"));
    }

    void step() throws IOException {
      try {
        switch (rnd.nextInt(10)) {
          case 0, 1 -> { // create or overwrite
            String f = randomFile();
            Path p = root.resolve(f);
            Files.createDirectories(p.getParent());
            if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
              return;
            }
            Files.deleteIfExists(p); // may be a symlink
            String c = content();
            Files.write(p, c.getBytes(UTF_8));
            lastWritten.put(f, c);
            log.debug("{} write {} {}", tag, f, h(c));
          }
          case 2 -> { // append
            List<Path> files = existingFiles();
            if (files.isEmpty()) {
              return;
            }
            Path p = files.get(rnd.nextInt(files.size()));
            String old = new String(Files.readAllBytes(p), UTF_8);
            String add = "+" + content();
            Files.write(p, add.getBytes(UTF_8), StandardOpenOption.APPEND);
            lastWritten.put(rel(p), old + add);
            log.debug("{} append {} {}", tag, rel(p), h(old + add));
          }
          case 3 -> { // delete a file
            List<Path> files = existingFiles();
            if (files.isEmpty()) {
              return;
            }
            Path p = files.get(rnd.nextInt(files.size()));
            Files.delete(p);
            forget(rel(p));
            log.debug("{} delete {}", tag, rel(p));
          }
          case 4 -> { // rename a file
            List<Path> files = existingFiles();
            if (files.isEmpty()) {
              return;
            }
            Path from = files.get(rnd.nextInt(files.size()));
            String to = randomFile();
            Path dest = root.resolve(to);
            if (Files.exists(dest, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
              return;
            }
            Files.createDirectories(dest.getParent());
            String c = new String(Files.readAllBytes(from), UTF_8);
            Files.move(from, dest);
            forget(rel(from));
            lastWritten.put(to, c);
            log.debug("{} rename {} -> {} {}", tag, rel(from), to, h(c));
          }
          case 5 -> Files.createDirectories(root.resolve(randomDir()).resolve("m" + rnd.nextInt(2)));
          case 6 -> { // rmdir, recursively
            String d = randomDir();
            if (d.isEmpty()) {
              return;
            }
            Path dir = root.resolve(d);
            if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
              return;
            }
            // (Files.walk failed the round when the daemon's temporary file in there vanished)
            for (Path p : SyncPair.walk(dir, true).stream().sorted(Comparator.reverseOrder()).toList()) {
              Files.deleteIfExists(p);
            }
            forget(d);
            log.debug("{} rmdir -r {}", tag, d);
          }
          case 7 -> { // chmod +x
            List<Path> files = existingFiles();
            if (files.isEmpty()) {
              return;
            }
            Path p = files.get(rnd.nextInt(files.size()));
            boolean wasExecutable = Files.isExecutable(p);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            if (!wasExecutable) { // a no-op chmod is no edit: the other side may legitimately overwrite it
              lastWritten.put(rel(p), new String(Files.readAllBytes(p), UTF_8));
            }
            log.debug("{} chmod+x {} (was {})", tag, rel(p), wasExecutable);
          }
          case 8 -> { // touch: a new modification time alone, which is no edit of the content
            List<Path> files = existingFiles();
            if (files.isEmpty()) {
              return;
            }
            Path p = files.get(rnd.nextInt(files.size()));
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(1_000_000_000_000L + rnd.nextInt(1 << 30)));
            log.debug("{} touch {}", tag, rel(p));
          }
          default -> { // symlink to a sibling name
            String d = randomDir();
            Path link = root.resolve(d).resolve("l" + rnd.nextInt(2));
            Files.createDirectories(link.getParent());
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
              Files.createSymbolicLink(link, link.getFileSystem().getPath("f" + rnd.nextInt(4) + ".txt"));
            }
          }
        }
      } catch (java.nio.file.NoSuchFileException | java.nio.file.FileAlreadyExistsException
          | java.nio.file.DirectoryNotEmptyException | java.nio.file.NotDirectoryException e) {
        // the live session moved something under us: a legitimate race, not a failure
      }
    }
  }
}
