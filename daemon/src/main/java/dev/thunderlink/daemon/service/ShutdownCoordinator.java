package dev.thunderlink.daemon.service;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Stops a daemon in a fixed, bounded order when SIGTERM (or Ctrl-C) arrives:
 *
 * <ol>
 *   <li><b>stop accepting</b> — every participant, in registration order, refuses new work
 *       (listeners closed, new RPCs and transfers rejected with a clear status);
 *   <li><b>drain</b> — in-flight work gets until the grace deadline ({@code service.shutdown_grace_s},
 *       default 10 s) to finish or checkpoint, all participants at once;
 *   <li><b>force</b> — a participant whose drain has not completed by the deadline is cut;
 *       it reports what it cut (e.g. {@code transfer src/Main.java 40% (resumes on restart)});
 *   <li><b>close</b> — every participant, in reverse registration order, flushes its state
 *       (index database, peer store) and releases resources; the daemon lock goes last.
 * </ol>
 *
 * <p>One participant failing never stops the others; its error is part of the {@link Report}.
 * {@link #shutdown} runs on the calling thread (normally the JVM's shutdown-hook thread, see
 * {@link #installShutdownHook}); it is idempotent and thread-safe: a second caller waits for
 * the first and gets the same report. Participants are registered before shutdown starts;
 * registration after that is refused.
 */
public final class ShutdownCoordinator {
  /** A part of the daemon that takes part in shutdown. Methods run on the shutdown thread. */
  public interface Participant {
    String name();

    /** Refuse new work. Must not block for long. */
    void stopAccepting() throws Exception;

    /** Completes when in-flight work has finished or been checkpointed. */
    CompletableFuture<Void> drain();

    /** Cuts what is still running; returns one human line per thing cut. */
    List<String> forceStop() throws Exception;

    /** Flushes state and releases resources; called after drain or force. */
    default void close() throws Exception {}

    /** A participant from lambdas. */
    static Participant of(
        String name,
        ThrowingRunnable stopAccepting,
        Supplier<CompletableFuture<Void>> drain,
        ThrowingSupplier<List<String>> forceStop,
        ThrowingRunnable close) {
      return new Participant() {
        @Override
        public String name() {
          return name;
        }

        @Override
        public void stopAccepting() throws Exception {
          stopAccepting.run();
        }

        @Override
        public CompletableFuture<Void> drain() {
          return drain.get();
        }

        @Override
        public List<String> forceStop() throws Exception {
          return forceStop.get();
        }

        @Override
        public void close() throws Exception {
          close.run();
        }
      };
    }
  }

  /** A runnable that may throw. */
  @FunctionalInterface
  public interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** A supplier that may throw. */
  @FunctionalInterface
  public interface ThrowingSupplier<T> {
    T get() throws Exception;
  }

  /**
   * What shutdown did.
   *
   * @param took from start of shutdown to the end of close
   * @param drained participants that finished in time
   * @param cut one line per piece of work cut at the deadline, prefixed by the participant
   * @param errors one line per participant step that threw
   */
  public record Report(Duration took, List<String> drained, List<String> cut, List<String> errors) {
    public Report {
      drained = List.copyOf(drained);
      cut = List.copyOf(cut);
      errors = List.copyOf(errors);
    }

    public boolean forced() {
      return !cut.isEmpty();
    }

    /** One line for the log and the terminal. */
    public String summary() {
      return "stopped in " + took.toMillis() + " ms"
          + (drained.isEmpty() ? "" : "; drained: " + String.join(", ", drained))
          + (cut.isEmpty() ? "" : "; cut at the deadline: " + String.join("; ", cut))
          + (errors.isEmpty() ? "" : "; errors: " + String.join("; ", errors));
    }
  }

  private final Duration grace;
  /** Guarded by {@code this}. */
  private final List<Participant> participants = new ArrayList<>();
  /** Guarded by {@code this}; set once. */
  private CompletableFuture<Report> result;

  /** @param grace how long in-flight work may take to drain (>= 0) */
  public ShutdownCoordinator(Duration grace) {
    if (grace.isNegative()) {
      throw new IllegalArgumentException("shutdown grace: " + grace.toMillis() + " ms (expected: >= 0)");
    }
    this.grace = grace;
  }

  /** Adds a participant; shutdown handles them in this order (close in reverse). */
  public synchronized ShutdownCoordinator register(Participant p) {
    if (result != null) {
      throw new IllegalStateException("shutdown already started; cannot register " + p.name());
    }
    participants.add(p);
    return this;
  }

  /** Runs {@link #shutdown} from a JVM shutdown hook (SIGTERM, SIGINT, System.exit). */
  public Thread installShutdownHook(java.util.function.Consumer<Report> onDone) {
    Thread hook = new Thread(() -> onDone.accept(shutdown()), "thunderlink-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }

  /** Stops everything in order within the grace (plus the time force and close take). */
  public Report shutdown() {
    CompletableFuture<Report> mine;
    List<Participant> ps;
    synchronized (this) {
      if (result != null) {
        mine = null;
      } else {
        result = new CompletableFuture<>();
        mine = result;
      }
      ps = List.copyOf(participants);
    }
    if (mine == null) {
      return awaitOther();
    }
    long t0 = System.nanoTime();
    List<String> errors = Collections.synchronizedList(new ArrayList<>());
    List<String> drained = new ArrayList<>();
    List<String> cut = new ArrayList<>();

    for (Participant p : ps) {
      try {
        p.stopAccepting();
      } catch (Exception e) {
        errors.add(p.name() + ": stop accepting failed: " + e);
      }
    }
    List<CompletableFuture<Void>> drains = new ArrayList<>();
    for (Participant p : ps) {
      CompletableFuture<Void> f;
      try {
        f = p.drain();
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      drains.add(f);
    }
    long deadline = t0 + grace.toNanos();
    boolean interrupted = false;
    for (int i = 0; i < ps.size(); i++) {
      Participant p = ps.get(i);
      try {
        drains.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        drained.add(p.name());
        continue;
      } catch (TimeoutException e) {
        // fall through to force
      } catch (ExecutionException e) {
        errors.add(p.name() + ": drain failed: " + e.getCause());
      } catch (InterruptedException e) {
        // A second signal: stop waiting, force what is left; the interrupt is restored below.
        interrupted = true;
        deadline = System.nanoTime();
      }
      try {
        for (String what : p.forceStop()) {
          cut.add(p.name() + ": " + what);
        }
      } catch (Exception e) {
        errors.add(p.name() + ": force stop failed: " + e);
      }
    }
    for (int i = ps.size() - 1; i >= 0; i--) {
      try {
        ps.get(i).close();
      } catch (Exception e) {
        errors.add(ps.get(i).name() + ": close failed: " + e);
      }
    }
    Report r = new Report(Duration.ofNanos(System.nanoTime() - t0), drained, cut, errors);
    mine.complete(r);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return r;
  }

  private Report awaitOther() {
    CompletableFuture<Report> f;
    synchronized (this) {
      f = result;
    }
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return f.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          throw new IllegalStateException(e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
