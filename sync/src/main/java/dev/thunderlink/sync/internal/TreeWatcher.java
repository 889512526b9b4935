package dev.thunderlink.sync.internal;

import io.methvin.watcher.DirectoryChangeEvent;
import io.methvin.watcher.DirectoryWatcher;
import io.methvin.watcher.hashing.FileHasher;
import io.methvin.watchservice.MacOSXListeningWatchService;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches a tree through io.methvin directory-watcher (FSEvents on macOS with file-level
 * events, inotify on Linux) with the library's own hashing off: our scanner decides what
 * changed, the watcher only says where to look. Events are coalesced: the sink is fed paths
 * at once, and {@code onBurstEnd} runs once the tree has been quiet for {@code debounce}
 * (or {@code maxDelay} after the first event of a burst, so a long burst still makes progress).
 *
 * <p>Threads: the library's watch thread calls {@code pathSink}; a single scheduler thread
 * runs {@code onBurstEnd}. {@code overflow} runs on the watch thread.
 */
final class TreeWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TreeWatcher.class);

  private final DirectoryWatcher watcher;
  private final ExecutorService watchThread;
  private final ScheduledExecutorService timer;
  private final Runnable onBurstEnd;
  private final long debounceNanos;
  private final long maxDelayNanos;
  private final Object lock = new Object();
  private ScheduledFuture<?> pending; // guarded by lock
  private long burstStart; // guarded by lock

  TreeWatcher(Path root, Duration debounce, Duration maxDelay, Duration macosLatency, Consumer<Path> pathSink,
      Runnable overflow, Runnable onBurstEnd) throws IOException {
    this.onBurstEnd = onBurstEnd;
    this.debounceNanos = debounce.toNanos();
    this.maxDelayNanos = maxDelay.toNanos();
    DirectoryWatcher.Builder b = DirectoryWatcher.builder()
        .path(root)
        .fileHashing(false)
        .logger(log)
        .listener(event -> {
          if (event.eventType() == DirectoryChangeEvent.EventType.OVERFLOW) {
            overflow.run();
          } else if (event.path() != null) {
            pathSink.accept(event.path());
          }
          poke();
        });
    if (System.getProperty("os.name", "").toLowerCase().contains("mac")) {
      double latencySeconds = macosLatency.toNanos() / 1e9;
      b.watchService(new MacOSXListeningWatchService(new MacOSXListeningWatchService.Config() {
        @Override
        public double latency() {
          return latencySeconds;
        }

        @Override
        public boolean fileLevelEvents() {
          return true;
        }

        @Override
        public FileHasher fileHasher() {
          return null; // no content hashing in the watcher: the scanner hashes what stat says changed
        }
      }));
    }
    this.watcher = b.build();
    this.watchThread = Executors.newSingleThreadExecutor(r -> daemon(r, "sync-watch"));
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "sync-watch-debounce"));
    watcher.watchAsync(watchThread);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private void poke() {
    synchronized (lock) {
      long now = System.nanoTime();
      if (pending == null) {
        burstStart = now;
      } else {
        pending.cancel(false);
      }
      long delay = Math.min(debounceNanos, Math.max(0, burstStart + maxDelayNanos - now));
      pending = timer.schedule(this::fire, delay, TimeUnit.NANOSECONDS);
    }
  }

  private void fire() {
    synchronized (lock) {
      pending = null;
    }
    try {
      onBurstEnd.run();
    } catch (RuntimeException e) {
      log.warn("change listener failed", e);
    }
  }

  @Override
  public void close() throws IOException {
    watcher.close();
    timer.shutdownNow();
    watchThread.shutdownNow();
  }
}
