package dev.thunderlink.sync.bench;

import dev.thunderlink.sync.SyncHostService;
import dev.thunderlink.sync.SyncSession;
import dev.thunderlink.sync.SyncSessionConfig;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The mirror on one large file, over a real grpc-netty server on loopback (the host service
 * and the workstation session share this JVM; the wire is real). For each kind of edit it
 * prints the time until {@code flush} returns, the bytes that travelled, and how many times
 * the file's size this process read and wrote ({@code rchar}/{@code wchar} of
 * {@code /proc/self/io}: file reads from the page cache and the loopback socket included, so
 * a copy that crosses the wire counts once more on each side), and the CPU time this process
 * used (less sensitive to other load on the machine than wall time).
 * Not a unit test; {@code benchmarks/sync-bigfile.sh} runs it.
 *
 * <pre>
 * args: [MiB=1024] [rounds=3] [dir=a temp directory]
 * </pre>
 */
public final class BigFileBench {
  private BigFileBench() {}

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Path tmp = args.length > 2 ? Files.createDirectories(Path.of(args[2])) : Files.createTempDirectory("bigfilebench");
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = Files.createDirectories(tmp.resolve("b"));
    long size = (long) mib << 20;
    Path big = a.resolve("big.bin");
    Random rnd = new Random(1);
    byte[] block = new byte[1 << 20];
    try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
      for (int i = 0; i < mib; i++) {
        rnd.nextBytes(block);
        f.write(block);
      }
    }
    SyncHostService host = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(host).build()
        .start();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
        .maxInboundMessageSize(16 << 20).build();
    SyncSessionConfig c = SyncSessionConfig.builder("bigfile").localRoot(a).remoteRoot(b.toString())
        .stateDir(tmp.resolve("ws-state")).deviceName("book").build();
    System.out.printf("file %d MiB, block size %d, load %s%n", mib, c.blockSize(), load());
    try (SyncSession s = SyncSession.start(c, ch)) {
      Measure m = new Measure(s, size);
      s.flush(Duration.ofMinutes(10));
      m.print("first copy");
      for (int r = 0; r < rounds; r++) {
        m = new Measure(s, size);
        flipByte(big, size / 2 + r * 4099L);
        s.flush(Duration.ofMinutes(10));
        m.print("1-byte edit mid-file, workstation->host");

        m = new Measure(s, size);
        flipByte(b.resolve("big.bin"), size / 3 + r * 4099L);
        s.flush(Duration.ofMinutes(10));
        m.print("1-byte edit mid-file, host->workstation");
      }
      m = new Measure(s, size);
      insertNearStart(big, 1000, 10);
      s.flush(Duration.ofMinutes(10));
      m.print("10 bytes inserted at offset 1000");
      if (!sameContent(big, b.resolve("big.bin"))) {
        throw new IllegalStateException("the two copies differ after flush");
      }
      System.out.println("copies identical; load " + load());
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
      host.close();
      if (args.length <= 2) {
        deleteTree(tmp);
      }
    }
  }

  /** Counters at the start of one measured step. */
  private static final class Measure {
    final SyncSession s;
    final long size;
    final long t0 = System.nanoTime();
    final long cpu0 = cpuNanos();
    final long sent;
    final long[] io;

    Measure(SyncSession s, long size) throws IOException {
      this.s = s;
      this.size = size;
      this.sent = s.status().bytesSent();
      this.io = io();
    }

    void print(String what) throws IOException {
      double secs = (System.nanoTime() - t0) / 1e9;
      long[] now = io();
      System.out.printf("%-42s %7.2f s (cpu %6.2f s)  %,13d bytes sent  read %.2f x size  written %.2f x size%n",
          what, secs, (cpuNanos() - cpu0) / 1e9, s.status().bytesSent() - sent, (now[0] - io[0]) / (double) size,
          (now[1] - io[1]) / (double) size);
    }
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static long[] io() throws IOException {
    long r = 0;
    long w = 0;
    for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
      if (line.startsWith("rchar:")) {
        r = Long.parseLong(line.substring(6).trim());
      } else if (line.startsWith("wchar:")) {
        w = Long.parseLong(line.substring(6).trim());
      }
    }
    return new long[] {r, w};
  }

  private static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "?";
    }
  }

  private static void flipByte(Path p, long at) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.seek(at);
      int x = f.read();
      f.seek(at);
      f.write(x ^ 1);
    }
  }

  /** Rewrites the file with {@code n} bytes inserted at {@code at} (through a temp file, as editors do). */
  private static void insertNearStart(Path p, long at, int n) throws IOException {
    Path t = p.resolveSibling("insert.tmp");
    try (var in = Files.newInputStream(p); var out = Files.newOutputStream(t)) {
      out.write(in.readNBytes((int) at));
      out.write(new byte[n]);
      in.transferTo(out);
    }
    Files.move(t, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static boolean sameContent(Path x, Path y) throws IOException {
    return Files.mismatch(x, y) == -1;
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
