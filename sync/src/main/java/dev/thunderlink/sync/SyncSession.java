package dev.thunderlink.sync;

import dev.thunderlink.sync.internal.DiskEndpoint;
import dev.thunderlink.sync.internal.Endpoint;
import dev.thunderlink.sync.internal.RemoteEndpoint;
import dev.thunderlink.sync.internal.SessionEngine;
import dev.thunderlink.sync.internal.StateStore;
import io.grpc.Channel;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A running sync session on the workstation: it owns the local side, talks to the remote
 * side (over gRPC, or a second local directory for the demo and tests), and runs the
 * coordinator on its own thread.
 *
 * <p>Lifecycle: {@code start*} opens both sides, then the first cycle (a full scan of both)
 * runs in the background; {@link #flush} waits until every change made before the call has
 * reached the other side; {@link #pause}/{@link #resume} stop and restart propagation;
 * {@link #close} stops the thread (waiting up to 5 s for a running cycle) and closes both
 * sides. State persists in {@link SyncSessionConfig#stateDir()}, so starting a session with
 * the same config again resumes without a full transfer.
 *
 * <p>Threads: one session thread ({@code sync-NAME}) runs every cycle; the public methods are
 * safe to call from any thread.
 */
public final class SyncSession implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SyncSession.class);

  private final SyncSessionConfig config;
  private final Endpoint local;
  private final Endpoint remote;
  private final StateStore state;
  private final SessionEngine engine;
  private final ScheduledExecutorService thread;
  private final AtomicBoolean cycleQueued = new AtomicBoolean();
  /**
   * Flushes asked for and not yet answered. While there is one, background cycles stop at
   * their next boundary (or do not start): the flush's own first cycle scans both sides in
   * full, which covers whatever they would have looked at. After an initial sync this drops
   * the host's rescan of every path just written (its watcher's echo, ~20,000 paths), which
   * the flush's full scan repeated right after.
   */
  private final java.util.concurrent.atomic.AtomicInteger flushesWaiting = new java.util.concurrent.atomic.AtomicInteger();
  /**
   * Both sides have been in sync at least once since this session started here: a cycle or a
   * flush ran to a stable end (status: {@code first_sync_done}). Unlike {@link #firstSync},
   * which answers {@code create --wait} and may end false (a flush overtook the first cycle, a
   * pause, an error retried), this only ever turns true.
   */
  private volatile boolean settled;

  /**
   * How often a session scans both sides in full while one of its trees is not watched. A scan
   * stats every path (hashing only what changed): for 20,000 files ~0.1-0.4 CPU-s a side here.
   */
  static final Duration UNWATCHED_POLL = Duration.ofSeconds(10);

  /**
   * The session's first sync, the first cycle it runs (asked for when it starts; its scans of
   * both sides are full, since neither has scanned yet): true once a cycle of it settled all it
   * planned, false if it failed, stopped early or gave way to a flush before that. See {@link
   * #awaitFirstSync}.
   */
  private final CompletableFuture<Boolean> firstSync = new CompletableFuture<>();
  private volatile String lifecycle = "RUNNING";
  private volatile String haltReason = "";
  private volatile String lastError = "";
  private volatile boolean forceOnce;
  private volatile long lastCycleMillis;
  /** Paused by a full disk (not by the user): retried on the session thread with a backoff. */
  private volatile boolean pausedForSpace;
  private long spaceRetryMillis; // session thread only
  static final long SPACE_RETRY_MAX_MILLIS = 5000;

  private final java.util.List<java.util.function.Consumer<SyncChange>> subscribers =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  private SyncSession(SyncSessionConfig config, Endpoint local, Endpoint remote, StateStore state) throws IOException {
    this.config = config;
    this.local = local;
    this.remote = remote;
    this.state = state;
    this.engine = new SessionEngine(config.name(), config.mode(), local, remote, state, config.blockSize(),
        config.safetyDeleteFraction(), config.safetyMinimumEntries(), Clock.systemDefaultZone());
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sync-" + config.name());
      t.setDaemon(true);
      return t;
    });
    String kept = state.meta(HALT_KEY);
    if (kept != null && !kept.isEmpty()) { // halted before the daemon stopped: still, until confirmed
      lifecycle = "HALTED";
      haltReason = kept;
    }
    local.onChange(this::changeNoticed);
    remote.onChange(this::changeNoticed);
    engine.onChange((kind, path, detail) -> publish(SyncChange.Kind.valueOf(kind.toUpperCase(java.util.Locale.ROOT)),
        path, detail));
    long every = config.rescanInterval().toMillis();
    if (every > 0) { // zero turns the periodic full rescan off
      thread.scheduleWithFixedDelay(() -> runCycle(true), every, every, TimeUnit.MILLISECONDS);
    }
    // a side whose tree cannot be watched (status: "cannot watch ...") is polled instead, as
    // Mutagen falls back to polling: its edits then take seconds to cross, not the rescan's minutes
    long poll = UNWATCHED_POLL.toMillis();
    thread.scheduleWithFixedDelay(() -> {
      if (engine.unwatched()) {
        runCycle(true);
      }
    }, poll, poll, TimeUnit.MILLISECONDS);
    requestCycle();
  }

  /** Starts a session whose remote side is the host reached through {@code channel}. */
  public static SyncSession start(SyncSessionConfig config, Channel channel) throws IOException {
    return start(config, channel, null);
  }

  /**
   * As above, with small files' content pushed to the host through {@code pusher} (the bulk
   * plane; null: everything by gRPC), falling back to gRPC whenever it fails.
   */
  public static SyncSession start(SyncSessionConfig config, Channel channel, FilePusher pusher) throws IOException {
    Endpoint local = openLocal(config, config.localRoot(), "local.db", config.deviceName());
    try {
      Endpoint remote = RemoteEndpoint.open(channel, pusher, config.name(), config.remoteRoot(), config.ignores(),
          config.useGitignoreFiles(), config.ignoreVcs(), config.outsideSymlinks() == SyncSessionConfig.OutsideSymlinks.KEEP);
      return create(config, local, remote);
    } catch (IOException | RuntimeException e) {
      local.close();
      throw e;
    }
  }

  /**
   * Starts a session between two directories of this machine ({@code thunderlink demo},
   * tests): the remote root is a local path and both sides run in this process.
   */
  public static SyncSession startLocal(SyncSessionConfig config, Path remoteRoot, String remoteDevice)
      throws IOException {
    Endpoint local = openLocal(config, config.localRoot(), "local.db", config.deviceName());
    try {
      Endpoint remote = openLocal(config, remoteRoot, "remote.db", remoteDevice);
      return create(config, local, remote);
    } catch (IOException | RuntimeException e) {
      local.close();
      throw e;
    }
  }

  private static SyncSession create(SyncSessionConfig config, Endpoint local, Endpoint remote) throws IOException {
    StateStore state = null;
    try {
      state = StateStore.open(config.stateDir().resolve("session.db"));
      return new SyncSession(config, local, remote, state);
    } catch (IOException | RuntimeException e) {
      if (state != null) {
        state.close();
      }
      local.close();
      remote.close();
      throw e;
    }
  }

  private static Endpoint openLocal(SyncSessionConfig c, Path root, String db, String device) throws IOException {
    boolean watchable = c.watch() && root.getFileSystem() == FileSystems.getDefault();
    DiskEndpoint.Options o = new DiskEndpoint.Options(device, c.ignores(), c.useGitignoreFiles(), c.ignoreVcs(),
        c.outsideSymlinks() == SyncSessionConfig.OutsideSymlinks.KEEP, watchable, c.debounce(),
        Duration.ofMillis(50), c.macosLatency());
    DiskEndpoint side = DiskEndpoint.open(root, c.stateDir().resolve(db), o, false);
    side.fingerprintBlockSize(c.blockSize());
    return side;
  }

  /**
   * Subscribes to this session's changes, pushed as they happen. The callback runs on the
   * session's threads and must not block (hand the change to a queue); close the returned
   * handle to unsubscribe.
   */
  public AutoCloseable subscribe(java.util.function.Consumer<SyncChange> subscriber) {
    subscribers.add(subscriber);
    return () -> subscribers.remove(subscriber);
  }

  private void publish(SyncChange.Kind kind, String path, String detail) {
    if (subscribers.isEmpty()) {
      return;
    }
    SyncChange c = new SyncChange(config.name(), kind, path, detail, System.currentTimeMillis());
    for (java.util.function.Consumer<SyncChange> s : subscribers) {
      try {
        s.accept(c);
      } catch (RuntimeException e) {
        // a subscriber's failure is its own; the session goes on
      }
    }
  }

  public SyncSessionConfig config() {
    return config;
  }

  /**
   * Hears the propagation latency of each change this session applies: from the session
   * noticing the change (a side's watcher reporting it, after its debounce; for a change found
   * by a periodic rescan or a flush, the start of that cycle) to the other side confirming the
   * apply. One call per path applied, on the session thread; must not block.
   */
  public void onPropagated(java.util.function.Consumer<Duration> c) {
    engine.onPropagated(c);
  }

  private void changeNoticed() {
    engine.changeNoticed();
    requestCycle();
  }

  private void requestCycle() {
    if (cycleQueued.compareAndSet(false, true)) {
      try {
        thread.execute(() -> {
          cycleQueued.set(false);
          runCycle(false);
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        cycleQueued.set(false); // closed
      }
    }
  }

  /** Runs on the session thread. */
  private void runCycle(boolean full) {
    if (!lifecycle.equals("RUNNING") || flushesWaiting.get() > 0) {
      firstSync.complete(false);
      return; // a waiting flush's full cycle does this one's work
    }
    try {
      boolean force = forceOnce;
      forceOnce = false;
      // the first sync is done as soon as a cycle settled all it planned and left nothing for
      // the next: the first cycle plans every path of both sides (neither was scanned before),
      // and the cycle after it, which runs on in the background, only confirms that (it
      // rescans what the watches may have missed while they were being set up: changes made
      // during the sync, not before it)
      engine.runUntilStable(full, force, () -> running() && flushesWaiting.get() == 0, () -> {
        settled = true;
        firstSync.complete(true);
      });
      boolean stable = running() && flushesWaiting.get() == 0;
      settled |= stable;
      firstSync.complete(stable); // false: it stopped early
      lastError = "";
      spaceReturned();
    } catch (SessionEngine.SafetyStop e) {
      halt(e);
    } catch (IOException e) {
      if (Endpoint.DiskFullException.isNoSpace(e)) {
        pauseForSpace(e);
        return;
      }
      lastError = e.getMessage() == null ? e.toString() : e.getMessage();
      thread.schedule(this::requestCycle, 500, TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      lastError = e.getMessage() == null ? e.toString() : e.getMessage();
      thread.schedule(this::requestCycle, 500, TimeUnit.MILLISECONDS);
    } finally {
      firstSync.complete(false); // no-op after either of the above
      lastCycleMillis = System.currentTimeMillis();
    }
  }

  /** How many cycles were asked to scan both sides in full: a flush's, a periodic rescan's (tests). */
  long fullCycles() {
    return engine.fullCycles();
  }

  /**
   * Returns once the session's first sync is done: everything in both folders when the session
   * started is on both sides, which is what a {@link #flush} right after starting would ensure,
   * without that flush's second full scan of both sides right after the first sync's own (for
   * a 20,000-file tree ~0.5 s, and a command's start). If the first sync did not get there by
   * itself (an error it retries, a flush that overtook it, a pause), this is a flush, with
   * what is left of {@code timeout}; a session started long ago gets no more than that from
   * this, so it is for the caller that started it (`sync create --wait`).
   *
   * @throws TimeoutException if that did not happen within {@code timeout}
   * @throws IllegalStateException if the session is paused, halted or closed
   */
  public void awaitFirstSync(Duration timeout) throws TimeoutException, IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean done;
    try {
      done = firstSync.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      done = false;
    } catch (TimeoutException e) {
      throw new TimeoutException("sync " + config.name() + ": the first sync did not finish in time (" + timeout + ")"
          + (lastError.isEmpty() ? "" : " (last error: " + lastError + ")"));
    }
    if (!done) {
      flush(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
    }
  }

  /**
   * Returns once every change made on either side before this call has reached the other
   * side (a full stat scan of both sides, then cycles until nothing is left to do).
   *
   * @throws TimeoutException if that did not happen within {@code timeout}
   * @throws IllegalStateException if the session is paused, halted or closed
   */
  public void flush(Duration timeout) throws TimeoutException, IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    CompletableFuture<Void> done = new CompletableFuture<>();
    flushesWaiting.incrementAndGet();
    done.whenComplete((ok, failure) -> {
      // a flush that did not get through may have held back background cycles: start one
      if (flushesWaiting.decrementAndGet() == 0 && failure != null) {
        requestCycle();
      }
    });
    try {
      thread.execute(() -> attemptFlush(done, deadline));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      done.completeExceptionally(e); // closed
      throw e;
    }
    try {
      done.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof TimeoutException) {
        throw (TimeoutException) c;
      }
      if (c instanceof IOException) {
        throw (IOException) c;
      }
      if (c instanceof RuntimeException) {
        throw (RuntimeException) c;
      }
      throw new IOException(c);
    } catch (TimeoutException e) {
      done.cancel(false);
      throw new TimeoutException("sync " + config.name() + ": flush did not finish in time (" + timeout + ")"
          + (lastError.isEmpty() ? "" : " (last error: " + lastError + ")"));
    }
  }

  private void attemptFlush(CompletableFuture<Void> done, long deadline) {
    if (done.isDone()) {
      return;
    }
    if (!lifecycle.equals("RUNNING")) {
      done.completeExceptionally(new IllegalStateException("sync " + config.name() + " is " + lifecycle.toLowerCase()
          + (haltReason.isEmpty() ? "" : ": " + haltReason)));
      return;
    }
    try {
      boolean force = forceOnce;
      forceOnce = false;
      engine.runUntilStable(true, force, this::running);
      lastError = "";
      spaceReturned();
      if (running()) {
        settled = true;
        done.complete(null);
      } else {
        done.completeExceptionally(new IllegalStateException("sync " + config.name() + " is "
            + lifecycle.toLowerCase()));
      }
    } catch (SessionEngine.SafetyStop e) {
      halt(e);
      done.completeExceptionally(new IllegalStateException("sync " + config.name() + " halted: " + e.getMessage()));
    } catch (IOException e) {
      if (Endpoint.DiskFullException.isNoSpace(e)) {
        pauseForSpace(e);
        done.completeExceptionally(new IllegalStateException("sync " + config.name() + " is paused: " + haltReason));
        return;
      }
      retryFlush(done, deadline, e);
    } catch (RuntimeException e) {
      retryFlush(done, deadline, e);
    }
  }

  private void retryFlush(CompletableFuture<Void> done, long deadline, Exception e) {
    lastError = e.getMessage() == null ? e.toString() : e.getMessage();
    if (System.nanoTime() < deadline) {
      thread.schedule(() -> attemptFlush(done, deadline), 100, TimeUnit.MILLISECONDS);
    } else {
      done.completeExceptionally(new TimeoutException("sync " + config.name()
          + ": flush did not finish in time (last error: " + lastError + ")"));
    }
  }

  /**
   * A side ran out of space. Nothing was changed there (the engine stops the cycle at the
   * first refused write and keeps every undone path for later), so the session pauses and
   * says where and how much; it retries by itself, backing off to every
   * {@value #SPACE_RETRY_MAX_MILLIS} ms (each retry is a stat scan and one refused write
   * header: the endpoints check free space before writing), and a resume retries at once.
   * Session thread only.
   */
  private void pauseForSpace(IOException e) {
    String what = e instanceof Endpoint.DiskFullException ? e.getMessage() : "disk full: " + e.getMessage();
    boolean already = pausedForSpace;
    lifecycle = "PAUSED";
    pausedForSpace = true;
    haltReason = what + "; free space there and run `thunderlink sync resume " + config.name()
        + "` (the session also retries by itself every few seconds)";
    if (!already) {
      publish(SyncChange.Kind.PAUSED, "", haltReason);
    }
    spaceRetryMillis = Math.min(SPACE_RETRY_MAX_MILLIS, Math.max(250, spaceRetryMillis * 2));
    try {
      thread.schedule(this::retryAfterDiskFull, spaceRetryMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // closing
    }
  }

  /** Session thread. */
  private void retryAfterDiskFull() {
    if (pausedForSpace && lifecycle.equals("PAUSED")) {
      lifecycle = "RUNNING";
      runCycle(true);
    }
  }

  /** A cycle went through: a pause for space (if any) is over. Session thread. */
  private void spaceReturned() {
    if (pausedForSpace) {
      pausedForSpace = false;
      haltReason = "";
    }
    spaceRetryMillis = 0;
  }

  public SyncStatus status() {
    return new SyncStatus(config.name(), config.mode().cliName(), lifecycle, haltReason, lastError,
        engine.localEntries(), engine.remoteEntries(), engine.cycles(), engine.opsApplied(),
        engine.filesTransferred(), engine.bytesSent(), engine.bytesReused(), engine.renames(),
        conflictCount(), engine.errors(), engine.collisions(), lastCycleMillis, engine.planOps.get(),
        engine.planOpsDone.get(), engine.planBytes.get(), engine.planBytesDone.get(), engine.planStartedMillis,
        engine.planFinishedMillis, engine.planActive, config.localRoot().toString(), config.remoteRoot(), settled,
        engine.waiting(), (int) Math.round(config.safetyDeleteFraction() * 100), config.safetyMinimumEntries());
  }

  private long conflictCount() {
    try {
      return state.conflictCount();
    } catch (IOException e) {
      return -1;
    }
  }

  public List<SyncConflict> conflicts() throws IOException {
    return new ArrayList<>(engine.conflicts());
  }

  /** Stops propagating changes (scans stop too) until {@link #resume}. */
  public void pause() throws InterruptedException {
    if (lifecycle.equals("RUNNING")) {
      lifecycle = "PAUSED";
    }
    pausedForSpace = false; // the user's pause is not lifted by space returning
    // wait for a cycle in flight to stop at its next boundary: after this returns, nothing is applied
    CompletableFuture<Void> barrier = new CompletableFuture<>();
    try {
      thread.execute(() -> barrier.complete(null));
      barrier.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.RejectedExecutionException | ExecutionException | TimeoutException e) {
      // closed, or a single operation is taking very long; it will still stop at the next cycle
    }
  }

  private boolean running() {
    return lifecycle.equals("RUNNING");
  }

  /**
   * Resumes a paused or halted session. {@code force} confirms a safety stop: the next cycle
   * applies the plan that tripped it.
   */
  public void resume(boolean force) {
    if (lifecycle.equals("CLOSED")) {
      throw new IllegalStateException("sync " + config.name() + " is closed");
    }
    boolean halted = lifecycle.equals("HALTED");
    if (halted && !force) {
      throw new IllegalStateException("sync " + config.name() + " halted: " + haltReason + " (use --force to confirm)");
    }
    forceOnce = force;
    haltReason = "";
    pausedForSpace = false;
    lifecycle = "RUNNING";
    if (halted) {
      keepHalt(""); // a kept halt is one; a pause leaves HALTED as it is
    }
    thread.execute(() -> runCycle(true));
  }

  /** The state database's key for a kept halt's reason ({@link SessionEngine.SafetyStop#kept}). */
  static final String HALT_KEY = "halted";

  /** Session thread. */
  private void halt(SessionEngine.SafetyStop e) {
    lifecycle = "HALTED";
    haltReason = e.getMessage();
    if (e.kept()) {
      keepHalt(haltReason);
    }
    publish(SyncChange.Kind.HALTED, "", haltReason);
  }

  /**
   * Writes (or, with "", clears) the halt that a restart of the daemon must keep: the plan that
   * tripped it was held back, and the engine that starts again might not see it as one deletion.
   */
  private void keepHalt(String reason) {
    try {
      state.setMeta(HALT_KEY, reason);
    } catch (IOException e) {
      log.warn("sync {}: could not {} the halt in the state database: {}", config.name(),
          reason.isEmpty() ? "clear" : "keep", e.getMessage());
    }
  }

  /**
   * Closes the session for good ({@code sync terminate}): the host drops its state for it too; the
   * caller deletes this side's. Returns whether the host said it did (false: out of reach).
   */
  public boolean terminate() throws IOException {
    remote.forgetOnClose();
    close();
    return remote.forgotten();
  }

  /** Stops the session thread and closes both sides; the state stays for a later start. */
  @Override
  public void close() throws IOException {
    lifecycle = "CLOSED";
    thread.shutdown();
    try {
      if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
        thread.shutdownNow();
      }
    } catch (InterruptedException e) {
      thread.shutdownNow();
      Thread.currentThread().interrupt();
    }
    engine.close();
    try {
      local.close();
    } finally {
      try {
        remote.close();
      } finally {
        state.close();
      }
    }
  }
}
