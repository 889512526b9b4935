package dev.thunderlink.benchmarks.workload;

/**
 * What {@link TreeGenerator} builds: {@code files} text-like files with sizes drawn uniformly from
 * {@code [minFileBytes, maxFileBytes]}, {@code filesPerDirectory} to a directory, all derived from
 * {@code seed}. The same spec always yields byte-identical trees, on every machine.
 *
 * @param files number of files, >= 1
 * @param minFileBytes smallest file size, >= 0
 * @param maxFileBytes largest file size, >= minFileBytes
 * @param filesPerDirectory files per leaf directory, >= 1
 * @param seed the seed every byte derives from
 */
public record TreeSpec(int files, int minFileBytes, int maxFileBytes, int filesPerDirectory,
    long seed) {

  /** The seed every benchmark uses unless it says otherwise. */
  public static final long DEFAULT_SEED = 20261126L;

  public TreeSpec {
    if (files < 1) {
      throw new IllegalArgumentException("files: " + files + " (expected: >= 1)");
    }
    if (minFileBytes < 0) {
      throw new IllegalArgumentException("minFileBytes: " + minFileBytes + " (expected: >= 0)");
    }
    if (maxFileBytes < minFileBytes) {
      throw new IllegalArgumentException(
          "maxFileBytes: " + maxFileBytes + " (expected: >= minFileBytes " + minFileBytes + ")");
    }
    if (filesPerDirectory < 1) {
      throw new IllegalArgumentException(
          "filesPerDirectory: " + filesPerDirectory + " (expected: >= 1)");
    }
  }

  /**
   * A source tree like a mid-sized repository: {@code files} files of 1-16 KiB, 50 to a
   * directory, with the default seed. {@code sourceTree(20_000)} is the tree of the sync
   * benchmarks and the peer comparison.
   */
  public static TreeSpec sourceTree(int files) {
    return new TreeSpec(files, 1024, 16 * 1024, 50, DEFAULT_SEED);
  }
}
