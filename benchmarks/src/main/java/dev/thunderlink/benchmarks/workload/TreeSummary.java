package dev.thunderlink.benchmarks.workload;

/**
 * What a generator wrote.
 *
 * @param files regular files written
 * @param directories directories created below the root
 * @param bytes total file bytes
 */
public record TreeSummary(long files, long directories, long bytes) {}
