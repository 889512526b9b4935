package dev.thunderlink.transport.bulk.internal;

import dev.thunderlink.transport.bulk.BulkConfig;

/** Fixed limits of the wire format. */
final class BulkConfigLimits {
  /** The largest raw LZ4 block a receiver decompresses. */
  static final int MAX_LZ4_BLOCK = 4 * BulkConfig.LZ4_BLOCK_BYTES;

  private BulkConfigLimits() {}
}
