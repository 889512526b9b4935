package dev.thunderlink.sync;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/** Two directories mirrored by an in-process session, on the real file system or on Jimfs like macOS. */
final class SyncPair implements AutoCloseable {
  enum Fs { REAL, MACOS_JIMFS }

  final Path a;
  final Path b;
  final Path state;
  final FileSystem jimfs;
  final SyncSessionConfig config;
  SyncSession session;

  private SyncPair(Path a, Path b, Path state, FileSystem jimfs, SyncSessionConfig config) {
    this.a = a;
    this.b = b;
    this.state = state;
    this.jimfs = jimfs;
    this.config = config;
  }

  static FileSystem macJimfs() {
    return Jimfs.newFileSystem(Configuration.osX().toBuilder().setAttributeViews("basic", "posix", "unix").build());
  }

  static SyncPair open(Fs fs, Path tmp, SyncMode mode, Consumer<SyncSessionConfig.Builder> tweak) throws IOException {
    FileSystem j = fs == Fs.MACOS_JIMFS ? macJimfs() : null;
    Path base = j == null ? tmp : j.getPath("/work");
    Path a = Files.createDirectories(base.resolve("a"));
    Path b = Files.createDirectories(base.resolve("b"));
    SyncSessionConfig.Builder builder = SyncSessionConfig.builder("t").localRoot(a).remoteRoot(b.toString())
        .mode(mode).stateDir(tmp.resolve("state")).deviceName("book").watch(false)
        .rescanInterval(Duration.ofHours(1));
    tweak.accept(builder);
    SyncPair p = new SyncPair(a, b, tmp.resolve("state"), j, builder.build());
    p.start();
    return p;
  }

  void start() throws IOException {
    session = SyncSession.startLocal(config, b, "mini");
  }

  void restart() throws IOException {
    session.close();
    start();
  }

  void flush() throws Exception {
    session.flush(Duration.ofSeconds(30));
  }

  /** The daemon's temporary files ({@code IgnoreRules.TEMP_PREFIX}): never synced, and they come and go. */
  static boolean isTemp(Path p) {
    return p.getFileName() != null && p.getFileName().toString().startsWith(".thunderlink-tmp-");
  }

  /**
   * Every path under {@code root}, root first, parents before children, like {@link Files#walk}
   * but never through the daemon's temporary files, and without failing when an entry vanishes
   * between the listing and its stat: a temporary file always may (the daemon renames it into
   * place), other entries only if {@code anyMayVanish} (the other side's sync is changing the
   * tree). {@code Files.walk} threw an UncheckedIOException for the first of these.
   */
  static java.util.List<Path> walk(Path root, boolean anyMayVanish) throws IOException {
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

  static Map<String, String> tree(Path root) throws IOException {
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

  @Override
  public void close() throws IOException {
    try {
      session.close();
    } finally {
      if (jimfs != null) {
        jimfs.close();
      }
    }
  }
}
