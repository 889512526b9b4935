package dev.thunderlink.daemon;

import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.PeerStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A daemon's home directory: identity, pinned peers, control file, lock, logs.
 * Resolution order: {@code --home}, {@code THUNDERLINK_HOME}, {@code ~/.thunderlink}.
 *
 * <p>The lock is an OS file lock on {@code daemon.lock}: it dies with the process, so a
 * daemon that crashed leaves a stale file but no stale lock, and the next start takes it.
 */
public final class DaemonHome implements AutoCloseable {
  private final Path dir;
  private FileChannel lockChannel;
  private FileLock lock;

  public DaemonHome(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
  }

  public static DaemonHome resolve(Path option) {
    if (option != null) {
      return new DaemonHome(option);
    }
    String env = System.getenv("THUNDERLINK_HOME");
    if (env != null && !env.isBlank()) {
      return new DaemonHome(Path.of(env));
    }
    return new DaemonHome(Path.of(System.getProperty("user.home"), ".thunderlink"));
  }

  public Path dir() {
    return dir;
  }

  /** Creates the directory (owner-only) and checks it is writable. */
  public DaemonHome ensure() throws IOException {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IOException("cannot create home " + dir + " (" + e.getMessage() + "); pass a writable --home", e);
    }
    if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
      throw new IOException("home " + dir + " is not a writable directory; pass a writable --home");
    }
    return this;
  }

  /**
   * This home's identity, going by the name {@code device.name} in its config (or
   * THUNDERLINK_DEVICE_NAME), else the host name. A config that does not load leaves the host
   * name: whoever reads the config for their own work reports what is wrong with it.
   */
  public DeviceIdentity identity() throws IOException {
    dev.thunderlink.daemon.config.ThunderlinkConfig cfg;
    try {
      cfg = dev.thunderlink.daemon.config.ConfigLoader.load(dir).config();
    } catch (RuntimeException e) { // see above
      return DeviceIdentity.loadOrCreate(dir.resolve("identity"));
    }
    return identity(cfg);
  }

  /** This home's identity, going by {@code cfg}'s device name (for a caller that has loaded the config already). */
  public DeviceIdentity identity(dev.thunderlink.daemon.config.ThunderlinkConfig cfg) throws IOException {
    return DeviceIdentity.loadOrCreate(dir.resolve("identity"), cfg.device().nameOrNull());
  }

  public PeerStore peers() {
    return new PeerStore(dir.resolve("peers.json"));
  }

  public Path logs() {
    return dir.resolve("logs");
  }

  /**
   * Takes the daemon lock.
   *
   * @throws IOException naming the running daemon when another one holds it
   */
  public void lock(String role) throws IOException {
    ensure();
    Path file = dir.resolve("daemon.lock");
    lockChannel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      String owner = Files.readString(file, StandardCharsets.UTF_8).trim();
      lockChannel.close();
      throw new IOException(
          "another thunderlink daemon is already running with home " + dir
              + (owner.isEmpty() ? "" : " (" + owner + ")")
              + "; stop it first or use another --home");
    }
    lockChannel.truncate(0);
    lockChannel.write(
        ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + ", " + role).getBytes(StandardCharsets.UTF_8)), 0);
    lockChannel.force(true);
  }

  @Override
  public void close() throws IOException {
    if (lock != null) {
      lock.release();
      lock = null;
    }
    if (lockChannel != null) {
      lockChannel.close();
      lockChannel = null;
    }
  }
}
