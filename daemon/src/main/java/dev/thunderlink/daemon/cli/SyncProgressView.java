package dev.thunderlink.daemon.cli;

import dev.thunderlink.daemon.internal.Sizes;

import dev.thunderlink.proto.synccontrol.SyncProgress;
import dev.thunderlink.proto.synccontrol.SyncSessionStatus;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * What a person sees of a session's progress: the {@code sync status} line, and the terminal
 * progress bar of {@code sync create --wait} (files, bytes, rate and ETA, from the status the
 * daemon reports every quarter second while the first sync runs).
 */
final class SyncProgressView implements AutoCloseable {
  /** A bar on the terminal (the progressbar library's, or a test's). */
  interface Bar extends AutoCloseable {
    void stepTo(long n);

    void extraMessage(String m);

    @Override
    void close();
  }

  /** Opens a bar: its task name, its maximum, and whether it counts bytes (else operations). */
  interface Bars {
    Bar open(String task, long max, boolean bytes);
  }

  private final String name;
  private final long sinceMillis;
  private final Bars bars;
  private final PrintStream notes;
  private Bar bar;
  private boolean bytes;
  private long started;
  private boolean saidScanning;
  private boolean closed;
  private final long openedNanos = System.nanoTime();
  private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "sync-progress");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param sinceMillis plans started before this (by the daemon's clock, on the same machine)
   *     are not this command's: a caller gives its start less a second's slack
   */
  SyncProgressView(String name, long sinceMillis, Bars bars, PrintStream notes) {
    this.name = name;
    this.sinceMillis = sinceMillis;
    this.bars = bars;
    this.notes = notes;
  }

  /** The progressbar library's bar on stderr, in MiB or in operations. */
  static Bars terminal() {
    return (task, max, bytes) -> {
      ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
          .showSpeed();
      b = bytes ? b.setUnit("MiB", 1024 * 1024) : b.setUnit(" ops", 1);
      ProgressBar pb = b.build();
      return new Bar() {
        @Override
        public void stepTo(long n) {
          pb.stepTo(n);
        }

        @Override
        public void extraMessage(String m) {
          pb.setExtraMessage(m);
        }

        @Override
        public void close() {
          pb.close();
        }
      };
    };
  }

  /** Polls {@code status} every quarter second, on a thread of its own, until {@link #close}. */
  void follow(Supplier<SyncSessionStatus> status) {
    poller.scheduleWithFixedDelay(() -> {
      SyncSessionStatus s;
      try {
        s = status.get();
      } catch (RuntimeException e) {
        return; // the status call failed: the create's own call reports the daemon's trouble; try again
      }
      update(s);
    }, 0, 250, TimeUnit.MILLISECONDS);
  }

  /** One status: opens the bar when the session's first plan appears, then moves it. */
  synchronized void update(SyncSessionStatus s) {
    if (closed) {
      return; // a poll that was under way when the command ended: no bar after the command's output
    }
    SyncProgress p = s.getProgress();
    if (p.getStartedUnixMillis() < sinceMillis || p.getOps() == 0) {
      if (!saidScanning && bar == null && System.nanoTime() - openedNanos > TimeUnit.SECONDS.toNanos(1)) {
        saidScanning = true;
        notes.println("sync " + name + ": scanning both sides...");
        notes.flush();
      }
      return; // still scanning: no plan of this session's yet
    }
    if (bar == null || p.getStartedUnixMillis() != started) {
      // a first plan, or a later cycle's (what changed meanwhile): a bar of its own
      if (bar != null) {
        bar.close();
      }
      started = p.getStartedUnixMillis();
      bytes = p.getBytes() > 0;
      bar = bars.open("sync " + name, bytes ? p.getBytes() : p.getOps(), bytes);
    }
    bar.stepTo(bytes ? p.getBytesDone() : p.getOpsDone());
    bar.extraMessage(" " + p.getOpsDone() + "/" + p.getOps() + " ops");
  }

  /** The call is over with {@code last}: the bar shows where it ended, then closes. */
  synchronized void finish(SyncSessionStatus last) {
    update(last);
    close();
  }

  @Override
  public synchronized void close() {
    closed = true;
    poller.shutdownNow();
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }

  /** The {@code sync status} line of a plan, or null before the session's first one. */
  static String line(SyncProgress p) {
    if (p.getStartedUnixMillis() <= 0) {
      return null;
    }
    if (p.getActive()) {
      String eta = p.getEtaSeconds() < 0 ? "" : ", about " + seconds(p.getEtaSeconds()) + " left";
      return "applying: " + p.getOpsDone() + " of " + p.getOps() + " operations, " + Sizes.humanOf(p.getBytesDone(), p.getBytes())
          + ", " + Sizes.human((long) p.getBytesPerSecond()) + "/s" + eta;
    }
    return "last plan: " + p.getOpsDone() + " of " + p.getOps() + " operations, " + Sizes.human(p.getBytesDone()) + " at "
        + Sizes.human((long) p.getBytesPerSecond()) + "/s";
  }

  private static String seconds(double s) {
    return s < 10 ? String.format(Locale.ROOT, "%.1f s", s) : Math.round(s) + " s";
  }
}
