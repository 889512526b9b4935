package dev.thunderlink.transport;

/**
 * One path at one moment, for {@code status} and events.
 *
 * @param path the path
 * @param state its state
 * @param active whether calls go over it now
 * @param rttMicros smoothed RTT of recent probes, -1 before the first
 * @param lastRttMicros RTT of the last successful probe, -1 before the first
 * @param lastChangeMillis wall-clock time of the last state change
 * @param lastError the last failure, or empty
 */
public record PathSnapshot(
    LinkPath path,
    PathState state,
    boolean active,
    long rttMicros,
    long lastRttMicros,
    long lastChangeMillis,
    String lastError) {}
