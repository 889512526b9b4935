package dev.thunderlink.benchmarks.bench;

import java.io.PrintStream;
import java.time.Duration;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress on the terminal: a progress bar (me.tongfei:progressbar) when stderr is a terminal,
 * otherwise one plain line per phase, so logs and CI output stay readable. Units are planned
 * milliseconds. Used from the bench's main thread only.
 */
interface BenchProgress extends AutoCloseable {

  void phase(String what);

  void worked(long millis);

  @Override
  void close();

  /** A bar when there is a console, plain lines on {@code out} otherwise. */
  static BenchProgress forTerminal(PrintStream out, long plannedMillis) {
    if (System.console() != null) {
      return new Bar(plannedMillis);
    }
    return new Lines(out, plannedMillis);
  }

  /** The progress bar. */
  final class Bar implements BenchProgress {
    private final ProgressBar bar;

    Bar(long plannedMillis) {
      bar = new ProgressBarBuilder()
          .setTaskName("bench")
          .setInitialMax(Math.max(1, plannedMillis))
          .setStyle(ProgressBarStyle.ASCII)
          .setUnit(" s", 1000)
          .setUpdateIntervalMillis(250)
          .hideEta()
          .continuousUpdate()
          .setMaxRenderedLength(100)
          .build();
    }

    @Override
    public void phase(String what) {
      bar.setExtraMessage(what);
    }

    @Override
    public void worked(long millis) {
      bar.stepBy(millis);
    }

    @Override
    public void close() {
      bar.stepTo(bar.getMax());
      bar.close();
    }
  }

  /** One line per phase with the share of the planned time done. */
  final class Lines implements BenchProgress {
    private final PrintStream out;
    private final long planned;
    private long done;
    private String last = "";

    Lines(PrintStream out, long plannedMillis) {
      this.out = out;
      this.planned = Math.max(1, plannedMillis);
    }

    @Override
    public void phase(String what) {
      if (!what.equals(last)) {
        last = what;
        out.printf("bench: [%3d%%] %s (about %d s left)%n", Math.min(100, done * 100 / planned), what,
            Duration.ofMillis(Math.max(0, planned - done)).toSeconds());
        out.flush();
      }
    }

    @Override
    public void worked(long millis) {
      done += millis;
    }

    @Override
    public void close() {
      out.println("bench: [100%] done");
      out.flush();
    }
  }
}
