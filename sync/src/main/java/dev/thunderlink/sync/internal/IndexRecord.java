package dev.thunderlink.sync.internal;

/**
 * One row of a side's index: the synchronised {@link Entry} (null for a deletion tombstone),
 * the name on disk (which may differ from the NFC {@code path}), the stat data that lets a
 * rescan skip hashing, and the sequence number at which the row last changed.
 */
public record IndexRecord(String path, String diskPath, Entry entry, long statSize, long statMtimeNanos,
    String statKey, long seq) {

  boolean statMatches(long size, long mtimeNanos, String key) {
    return statSize == size && statMtimeNanos == mtimeNanos && java.util.Objects.equals(statKey, key);
  }
}
