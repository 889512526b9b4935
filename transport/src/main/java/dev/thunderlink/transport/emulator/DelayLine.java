package dev.thunderlink.transport.emulator;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One direction of one relayed connection: bytes read from {@code source} are held until the
 * profile says they have crossed the link, then written to {@code sink}.
 *
 * <p>Runs entirely on the connection's event loop (both channels of a connection share it), so
 * its fields need no guarding. Only {@link RelayConnection} calls it.
 *
 * <p>Timing of a segment of {@code n} bytes read at {@code now}:
 *
 * <pre>
 *   tat       = max(tat, now - burst) + n / rate     // token bucket as a virtual clock (GCRA)
 *   departure = max(now, tat)                        // last bit has left the sender
 *   arrival   = max(previous arrival, departure + delay + j)
 *   j         = uniform(-jitter, +jitter), drawn anew once 1 ms has passed since the last draw
 * </pre>
 *
 * The max with the previous arrival keeps bytes in order. Bytes held (queued, plus written but
 * not yet flushed by the sink) are bounded by a high-water mark; above it the source stops being
 * read, so backpressure reaches the sender through TCP instead of memory growing.
 */
final class DelayLine {

  /** Largest segment timed as one unit under a rate limit, so pacing stays smooth. */
  private static final int MAX_SEGMENT = 16 * 1024;

  private static final long MIN_HIGH_WATER = 1024 * 1024;

  private static final long MAX_TIMER_SLACK = 300_000;

  /**
   * Segments leaving within this long of the last jitter draw share it, as the frames of one
   * Wi-Fi transmit opportunity do. Independent draws per segment would stretch every message
   * written in several pieces (a gRPC response is three) to the worst of its draws.
   */
  private static final long JITTER_COHERENCE_NANOS = 1_000_000;

  private enum End { NONE, HALF_CLOSE, CLOSE }

  private record Segment(ByteBuf data, End end, long arrivalNanos) {}

  private final LinkEmulator emulator;
  private final RelayConnection connection;
  private final Channel source;
  private final boolean toTarget;
  private Channel sink;

  private final ArrayDeque<Segment> queue = new ArrayDeque<>();
  private long heldBytes;
  private long tatNanos = Long.MIN_VALUE / 2;
  private long lastArrivalNanos = Long.MIN_VALUE / 2;
  private long jitterNanos;
  private long jitterDrawnAtNanos = Long.MIN_VALUE / 2;
  private ScheduledFuture<?> timer;
  private long timerDueNanos;
  /** Typical timer lateness of this loop (EWMA), subtracted when scheduling. */
  private long timerSlackNanos;
  private boolean ended;
  private boolean reading;

  DelayLine(LinkEmulator emulator, RelayConnection connection, Channel source, boolean toTarget) {
    this.emulator = emulator;
    this.connection = connection;
    this.source = source;
    this.toTarget = toTarget;
    this.timerSlackNanos = emulator.timerSlackHint();
  }

  void start(Channel sink) {
    this.sink = sink;
    updateReading();
  }

  /** Takes ownership of {@code data}. */
  void onRead(ByteBuf data) {
    if (connection.isClosed()) {
      data.release();
      return;
    }
    LinkProfile profile = emulator.profile();
    int size = data.readableBytes();
    if (size == 0) {
      data.release();
      return;
    }
    hold(size);
    if (profile.unlimitedRate()) {
      enqueue(new Segment(data, End.NONE, arrival(profile, System.nanoTime())));
    } else {
      while (data.readableBytes() > MAX_SEGMENT) {
        ByteBuf slice = data.readRetainedSlice(MAX_SEGMENT);
        enqueue(new Segment(slice, End.NONE, arrival(profile, transmit(profile, MAX_SEGMENT))));
      }
      int rest = data.readableBytes();
      enqueue(new Segment(data, End.NONE, arrival(profile, transmit(profile, rest))));
    }
    updateReading();
  }

  /** The source sent FIN (half-close): forward it after the data before it. */
  void onInputShutdown() {
    endWith(End.HALF_CLOSE);
  }

  /** The source is gone: close the sink after the data before it has arrived. */
  void onSourceClosed() {
    endWith(End.CLOSE);
  }

  /** The link was restored, or the profile changed: re-evaluate reading and delivery. */
  void resume() {
    if (connection.isClosed()) {
      return;
    }
    updateReading();
    if (!emulator.isCut() && timer == null && !queue.isEmpty()) {
      scheduleHead();
    }
  }

  /** The link was cut: stop reading now; delivery stops at the next timer. */
  void pause() {
    updateReading();
  }

  /**
   * Drops everything queued; called once when the connection closes. Bytes already handed to the
   * sink are released by their write listeners, which the closing channel fails.
   */
  void discard() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    Segment s;
    while ((s = queue.poll()) != null) {
      if (s.data != null) {
        release(s.data.readableBytes());
        s.data.release();
      }
    }
  }

  private void endWith(End end) {
    if (ended || connection.isClosed()) {
      return;
    }
    ended = true;
    updateReading();
    LinkProfile profile = emulator.profile();
    enqueue(new Segment(null, end, arrival(profile, profile.unlimitedRate()
        ? System.nanoTime() : transmit(profile, 0))));
  }

  private long transmit(LinkProfile profile, int size) {
    long now = System.nanoTime();
    long rate = profile.rateBitsPerSecond();
    // Burst: what the rate sends in 1 ms, at least one segment.
    long burstNanos = Math.max(1_000_000L, MAX_SEGMENT * 8L * 1_000_000_000L / rate);
    long txNanos = size * 8L * 1_000_000_000L / rate;
    tatNanos = Math.max(tatNanos, now - burstNanos) + txNanos;
    return Math.max(now, tatNanos);
  }

  private long arrival(LinkProfile profile, long departureNanos) {
    long delay = profile.oneWayDelay().toNanos();
    long jitter = profile.jitter().toNanos();
    if (jitter > 0) {
      if (departureNanos - jitterDrawnAtNanos > JITTER_COHERENCE_NANOS) {
        jitterNanos = ThreadLocalRandom.current().nextLong(-jitter, jitter + 1);
        jitterDrawnAtNanos = departureNanos;
      }
      delay += Math.max(-jitter, Math.min(jitter, jitterNanos));
    }
    long arrival = Math.max(lastArrivalNanos, departureNanos + delay);
    lastArrivalNanos = arrival;
    return arrival;
  }

  private void enqueue(Segment segment) {
    if (connection.isClosed()) {
      // A failed write can close the connection synchronously while onRead is still slicing.
      if (segment.data != null) {
        release(segment.data.readableBytes());
        segment.data.release();
      }
      return;
    }
    queue.add(segment);
    if (queue.size() == 1 && timer == null && !emulator.isCut()) {
      scheduleHead();
    }
  }

  private void scheduleHead() {
    long now = System.nanoTime();
    long wait = queue.peek().arrivalNanos - now - timerSlackNanos;
    if (wait <= 0) {
      deliverDue();
    } else {
      timerDueNanos = now + wait;
      timer = source.eventLoop().schedule(this::onTimer, wait, TimeUnit.NANOSECONDS);
    }
  }

  private void onTimer() {
    timer = null;
    // Event-loop timers fire some 0.1 ms late on a busy machine; learning that lateness and
    // firing early by as much keeps the mean delay on target instead of biased upwards.
    long lateness = Math.max(0, Math.min(MAX_TIMER_SLACK, System.nanoTime() - timerDueNanos));
    timerSlackNanos += (lateness - timerSlackNanos) / 8;
    emulator.timerSlackHint(timerSlackNanos);
    deliverDue();
  }

  private void deliverDue() {
    if (connection.isClosed() || emulator.isCut()) {
      return; // a cut holds everything; resume() reschedules
    }
    long dueBy = System.nanoTime() + timerSlackNanos;
    boolean wrote = false;
    Segment head;
    while ((head = queue.peek()) != null && head.arrivalNanos <= dueBy) {
      queue.poll();
      if (head.data != null) {
        int size = head.data.readableBytes();
        sink.write(head.data).addListener((ChannelFutureListener) f -> written(f.isSuccess(), size));
        wrote = true;
      } else {
        if (wrote) {
          sink.flush();
          wrote = false;
        }
        finish(head.end);
        return;
      }
    }
    if (wrote) {
      sink.flush();
    }
    if (!queue.isEmpty()) {
      scheduleHead();
    }
  }

  private void finish(End end) {
    if (end == End.HALF_CLOSE && sink instanceof DuplexChannel duplex && sink.isActive()) {
      duplex.shutdownOutput().addListener(f -> connection.directionFinished());
    } else {
      connection.close();
    }
  }

  private void written(boolean success, int size) {
    release(size);
    if (!success) {
      connection.close();
      return;
    }
    emulator.delivered(toTarget, size);
    updateReading();
  }

  private void hold(int size) {
    heldBytes += size;
    emulator.addHeld(size);
  }

  private void release(int size) {
    heldBytes -= size;
    emulator.addHeld(-size);
  }

  private void updateReading() {
    if (sink == null || connection.isClosed()) {
      return;
    }
    long highWater = highWater(emulator.profile());
    boolean want;
    if (ended || emulator.isCut()) {
      want = false;
    } else if (reading) {
      want = heldBytes < highWater;
    } else {
      want = heldBytes <= highWater / 2;
    }
    if (want != reading) {
      reading = want;
      source.config().setAutoRead(want);
    }
  }

  /**
   * Four times the bandwidth-delay product at the largest delay, at least 1 MiB: reading resumes
   * at half of it, and the delay line alone holds one BDP, so the token bucket never runs dry.
   */
  static long highWater(LinkProfile profile) {
    if (profile.unlimitedRate()) {
      return MIN_HIGH_WATER;
    }
    long maxDelayNanos = profile.oneWayDelay().toNanos() + profile.jitter().toNanos();
    long bdp = (long) (profile.rateBitsPerSecond() / 8.0 * maxDelayNanos / 1e9);
    return Math.max(MIN_HIGH_WATER, 4 * bdp);
  }
}
