package dev.thunderlink.daemon.service;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Tracks the work a part of the daemon has in flight (transfers, token streams), so that
 * shutdown can wait for it to drain and name what it had to cut. Work starts with
 * {@link #begin}, which is refused once shutdown has begun, and ends by closing the ticket.
 *
 * <p>Thread-safe: tickets are begun and closed on any thread (event loops included: nothing
 * blocks). Guarded by {@code this}.
 */
public final class InFlightWork {
  /** One piece of work. Close it when the work ends, however it ends. */
  public final class Ticket implements AutoCloseable {
    private final String description;
    private final Runnable onCut;
    private volatile String progress = "";

    private Ticket(String description, Runnable onCut) {
      this.description = description;
      this.onCut = onCut;
    }

    /** Shown when the work is cut, e.g. {@code 40% (resumes on restart)}. */
    public void progress(String progress) {
      this.progress = progress;
    }

    @Override
    public void close() {
      end(this);
    }

    @Override
    public String toString() {
      return progress.isEmpty() ? description : description + " " + progress;
    }
  }

  private final Set<Ticket> open = new LinkedHashSet<>();
  private boolean accepting = true;
  private final CompletableFuture<Void> drained = new CompletableFuture<>();

  /**
   * Starts a piece of work.
   *
   * @param onCut what to do if shutdown cuts it (cancel the stream with UNAVAILABLE "daemon
   *     shutting down", checkpoint the transfer); runs on the shutdown thread
   * @throws IllegalStateException when shutdown has begun
   */
  public synchronized Ticket begin(String description, Runnable onCut) {
    if (!accepting) {
      throw new IllegalStateException("the daemon is shutting down; not starting " + description);
    }
    Ticket t = new Ticket(description, onCut);
    open.add(t);
    return t;
  }

  private void end(Ticket t) {
    boolean done;
    synchronized (this) {
      open.remove(t);
      done = !accepting && open.isEmpty();
    }
    if (done) {
      drained.complete(null);
    }
  }

  public synchronized int size() {
    return open.size();
  }

  /** A {@link ShutdownCoordinator.Participant} that stops new work, waits for open tickets and cuts the rest. */
  public ShutdownCoordinator.Participant participant(String name, ShutdownCoordinator.ThrowingRunnable close) {
    return ShutdownCoordinator.Participant.of(name, this::stopAccepting, () -> drained, this::cutAll, close);
  }

  void stopAccepting() {
    boolean done;
    synchronized (this) {
      accepting = false;
      done = open.isEmpty();
    }
    if (done) {
      drained.complete(null);
    }
  }

  List<String> cutAll() {
    List<Ticket> cut;
    synchronized (this) {
      cut = new ArrayList<>(open);
      open.clear();
    }
    List<String> lines = new ArrayList<>();
    for (Ticket t : cut) {
      lines.add(t.toString());
      t.onCut.run();
    }
    drained.complete(null);
    return lines;
  }
}
