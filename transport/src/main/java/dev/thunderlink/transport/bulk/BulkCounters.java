package dev.thunderlink.transport.bulk;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Byte and file counts of one side of the bulk plane, per mode, for metrics and
 * {@code status}. Payload bytes are file bytes; wire bytes are what the frames carried
 * (smaller than payload for LZ4). Thread-safe (adders); read with {@link #snapshot()}.
 */
public final class BulkCounters {
  private final Map<TransferMode, LongAdder> payload = new EnumMap<>(TransferMode.class);
  private final Map<TransferMode, LongAdder> wire = new EnumMap<>(TransferMode.class);
  private final Map<TransferMode, LongAdder> files = new EnumMap<>(TransferMode.class);
  private final LongAdder failed = new LongAdder();
  private final LongAdder resumedBytes = new LongAdder();

  public BulkCounters() {
    for (TransferMode m : TransferMode.values()) {
      payload.put(m, new LongAdder());
      wire.put(m, new LongAdder());
      files.put(m, new LongAdder());
    }
  }

  public void addPayload(TransferMode m, long bytes) {
    payload.get(m).add(bytes);
  }

  public void addWire(TransferMode m, long bytes) {
    wire.get(m).add(bytes);
  }

  public void fileDone(TransferMode m) {
    files.get(m).increment();
  }

  public void fileFailed() {
    failed.increment();
  }

  public void resumed(long bytes) {
    resumedBytes.add(bytes);
  }

  /** A consistent-enough copy for reporting. */
  public Snapshot snapshot() {
    Map<TransferMode, Long> p = new EnumMap<>(TransferMode.class);
    Map<TransferMode, Long> w = new EnumMap<>(TransferMode.class);
    Map<TransferMode, Long> f = new EnumMap<>(TransferMode.class);
    for (TransferMode m : TransferMode.values()) {
      p.put(m, payload.get(m).sum());
      w.put(m, wire.get(m).sum());
      f.put(m, files.get(m).sum());
    }
    return new Snapshot(Map.copyOf(p), Map.copyOf(w), Map.copyOf(f), failed.sum(), resumedBytes.sum());
  }

  /** Counter values at one moment. */
  public record Snapshot(
      Map<TransferMode, Long> payloadBytes,
      Map<TransferMode, Long> wireBytes,
      Map<TransferMode, Long> files,
      long failedFiles,
      long resumedBytes) {}
}
