package dev.thunderlink.sync;

/**
 * A conflict the session resolved by keeping both versions (or a name collision it could not
 * resolve). {@code copyPath} holds the version that lost the name; it exists on both sides.
 */
public record SyncConflict(String path, String copyPath, String device, long atMillis, String reason) {}
