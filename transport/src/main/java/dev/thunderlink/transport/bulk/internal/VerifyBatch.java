package dev.thunderlink.transport.bulk.internal;

import dev.thunderlink.proto.bulk.VerifyMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Collects Verify messages (digests, verdicts) and sends them as one batch message: a tree of
 * small files then costs one control-plane message per batch instead of one per file. Whoever
 * adds must also {@link #flush()} when it has nothing more for a while (end of a push, an idle
 * disk thread), so no message waits for a batch that never fills.
 *
 * <p>Thread-safe; the sink is called under this object's lock, in order.
 */
public final class VerifyBatch {
  /** A batch is sent once it holds this many messages. */
  public static final int MAX = 256;

  private final Consumer<VerifyMessage> sink;
  private final List<VerifyMessage> pending = new ArrayList<>();

  public VerifyBatch(Consumer<VerifyMessage> sink) {
    this.sink = sink;
  }

  public synchronized void add(VerifyMessage m) {
    pending.add(m);
    if (pending.size() >= MAX) {
      flush();
    }
  }

  /** Sends what is collected (nothing if empty). */
  public synchronized void flush() {
    if (pending.isEmpty()) {
      return;
    }
    VerifyMessage out = pending.size() == 1 ? pending.get(0) : VerifyMessage.newBuilder().addAllBatch(pending).build();
    pending.clear();
    sink.accept(out);
  }

  /** Calls {@code f} for each message a received one carries: itself, or its batch (one level). */
  public static void each(VerifyMessage m, Consumer<VerifyMessage> f) {
    if (m.getBatchCount() == 0) {
      f.accept(m);
      return;
    }
    for (VerifyMessage b : m.getBatchList()) {
      f.accept(b.getBatchCount() == 0 ? b : b.toBuilder().clearBatch().build());
    }
  }
}
