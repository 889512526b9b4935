package dev.thunderlink.sync;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.thunderlink.sync.testing.Trees;
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

  /** See {@link Trees#isTemp}. */
  static boolean isTemp(Path p) {
    return Trees.isTemp(p);
  }

  /** See {@link Trees#walk}. */
  static java.util.List<Path> walk(Path root, boolean anyMayVanish) throws IOException {
    return Trees.walk(root, anyMayVanish);
  }

  /** See {@link Trees#snapshot}. */
  static Map<String, String> tree(Path root) throws IOException {
    return Trees.snapshot(root);
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
