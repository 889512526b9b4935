package dev.thunderlink.transport.emulator;

/**
 * A snapshot of a {@link LinkEmulator}'s counters. Counts only bytes actually written to the far
 * side; bytes held in the emulator (queued or delayed) are reported separately.
 *
 * @param connectionsAccepted connections accepted since start
 * @param connectionsOpen relayed connections currently open
 * @param bytesToTarget bytes delivered from clients to the target
 * @param bytesToClient bytes delivered from the target back to clients
 * @param bytesHeld bytes read but not yet delivered, all connections and directions
 * @param cut whether the link is currently cut
 */
public record LinkStats(
    long connectionsAccepted,
    int connectionsOpen,
    long bytesToTarget,
    long bytesToClient,
    long bytesHeld,
    boolean cut) {}
