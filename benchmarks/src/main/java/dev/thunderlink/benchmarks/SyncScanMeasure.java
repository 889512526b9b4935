package dev.thunderlink.benchmarks;

import dev.thunderlink.sync.internal.DiskEndpoint;
import dev.thunderlink.sync.internal.Endpoint;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * One side's scans of a tree, alone, in a fresh JVM (the way a daemon meets them: cold): the
 * first scan with an empty index (stat and hash every file, then the index commit), then a
 * full rescan (stat only). Prints wall and scanning-thread CPU of each; hashing threads' CPU
 * shows in the process's CPU (run it under {@code /usr/bin/time}). {@code
 * benchmarks/sync-scan.sh} runs it A/B against two daemon jars.
 *
 * <pre>
 * java -cp DAEMON.jar:benchmarks/target/benchmarks.jar dev.thunderlink.benchmarks.SyncScanMeasure TREE
 * </pre>
 */
public final class SyncScanMeasure {
  private SyncScanMeasure() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1 || !Files.isDirectory(Path.of(args[0]))) {
      System.err.println("usage: SyncScanMeasure TREE (an existing directory)");
      System.exit(2);
    }
    Path tree = Path.of(args[0]);
    Path state = Files.createTempDirectory("sync-scan-");
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try {
      long t0 = System.nanoTime();
      long c0 = threads.getCurrentThreadCpuTime();
      try (DiskEndpoint side = DiskEndpoint.open(tree, state.resolve("index.db"), DiskEndpoint.Options.defaults("scan"),
          false)) {
        long t1 = System.nanoTime();
        long c1 = threads.getCurrentThreadCpuTime();
        Endpoint.ChangeSet first = side.changes(0, true, List.of());
        long t2 = System.nanoTime();
        long c2 = threads.getCurrentThreadCpuTime();
        Endpoint.ChangeSet again = side.changes(first.lastSeq(), true, List.of());
        long t3 = System.nanoTime();
        long c3 = threads.getCurrentThreadCpuTime();
        System.out.printf("open %d ms (cpu %d); first scan %d entries %d ms (cpu %d); rescan %d changes %d ms (cpu %d)%n",
            ms(t1 - t0), ms(c1 - c0), first.changes().size(), ms(t2 - t1), ms(c2 - c1), again.changes().size(),
            ms(t3 - t2), ms(c3 - c2));
      }
    } finally {
      try (Stream<Path> s = Files.walk(state)) {
        for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
          Files.delete(p);
        }
      }
    }
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }
}
