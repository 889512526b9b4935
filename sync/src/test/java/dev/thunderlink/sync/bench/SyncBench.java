package dev.thunderlink.sync.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

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
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Measures the mirror on loopback: a host service on a real grpc-netty server and a
 * workstation session in this JVM (one process holds both "daemons"; the wire is real).
 * Not a unit test: run it by hand (see the sync module's report for the command).
 *
 * <pre>
 * args: [files=20000] [bigMiB=1024] [edits=50]
 * </pre>
 */
public final class SyncBench {
  private SyncBench() {}

  public static void main(String[] args) throws Exception {
    int files = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int bigMiB = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
    int edits = args.length > 2 ? Integer.parseInt(args[2]) : 50;
    Path tmp = Files.createTempDirectory("syncbench");
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = Files.createDirectories(tmp.resolve("b"));
    Random rnd = new Random(1);
    for (int i = 0; i < files; i++) {
      Path p = a.resolve("d" + (i % 200)).resolve("f" + i + ".txt");
      Files.createDirectories(p.getParent());
      byte[] data = new byte[1024 + rnd.nextInt(3072)];
      rnd.nextBytes(data);
      Files.write(p, data);
    }
    SyncHostService host = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(host).build().start();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
        .maxInboundMessageSize(16 << 20).build();
    SyncSessionConfig c = SyncSessionConfig.builder("bench").localRoot(a).remoteRoot(b.toString())
        .stateDir(tmp.resolve("ws-state")).deviceName("book").build();
    try (SyncSession s = SyncSession.start(c, ch)) {
      long t0 = System.nanoTime();
      long cpu0 = processCpuNanos();
      s.flush(Duration.ofMinutes(10));
      long initial = System.nanoTime() - t0;
      // CPU time (both sides, one process) depends far less on what else the machine runs
      System.out.printf("initial sync of %d files: %.2f s, %.2f s CPU (%d transferred; load average %.2f)%n", files,
          initial / 1e9, (processCpuNanos() - cpu0) / 1e9, s.status().filesTransferred(),
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());

      long[] toHost = latency(a, b, edits, "w");
      long[] toWs = latency(b, a, edits, "h");
      System.out.printf("single small edit workstation->host: p50 %.1f ms, p99 %.1f ms (n=%d)%n",
          pct(toHost, 50), pct(toHost, 99), edits);
      System.out.printf("single small edit host->workstation: p50 %.1f ms, p99 %.1f ms (n=%d)%n",
          pct(toWs, 50), pct(toWs, 99), edits);

      long[] conv = new long[10];
      for (int round = 0; round < conv.length; round++) {
        byte[][] contents = new byte[10][];
        long start = System.nanoTime();
        for (int i = 0; i < 10; i++) {
          contents[i] = ("round " + round + " file " + i + " " + rnd.nextLong()).getBytes(UTF_8);
          Files.write(a.resolve("d" + (i * 7)).resolve("f" + (i * 7) + ".txt"), contents[i]);
        }
        for (int i = 0; i < 10; i++) {
          awaitContent(b.resolve("d" + (i * 7)).resolve("f" + (i * 7) + ".txt"), contents[i]);
        }
        conv[round] = System.nanoTime() - start;
      }
      System.out.printf("10 files changed in the %d-file tree, all on the other side: p50 %.1f ms, max %.1f ms%n",
          files, pct(conv, 50), pct(conv, 100));

      if (bigMiB > 0) {
        Path big = a.resolve("big.bin");
        byte[] block = new byte[1 << 20];
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
          for (int i = 0; i < bigMiB; i++) {
            rnd.nextBytes(block);
            f.write(block);
          }
        }
        t0 = System.nanoTime();
        s.flush(Duration.ofMinutes(10));
        System.out.printf("first copy of a %d MiB file: %.2f s%n", bigMiB, (System.nanoTime() - t0) / 1e9);
        long sent = s.status().bytesSent();
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
          f.seek((long) bigMiB * (1 << 19));
          int x = f.read();
          f.seek((long) bigMiB * (1 << 19));
          f.write(x ^ 1);
        }
        t0 = System.nanoTime();
        s.flush(Duration.ofMinutes(10));
        System.out.printf("one-byte edit in the %d MiB file: %d bytes sent (block size %d), %.2f s%n", bigMiB,
            s.status().bytesSent() - sent, c.blockSize(), (System.nanoTime() - t0) / 1e9);
      }
      System.out.println("status: " + s.status());
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
      host.close();
    }
  }

  private static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean
        ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime() : -1;
  }

  private static long[] latency(Path from, Path to, int n, String tag) throws IOException {
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      byte[] content = (tag + " edit " + i + " " + System.nanoTime()).getBytes(UTF_8);
      long start = System.nanoTime();
      Files.write(from.resolve("d1").resolve("f1.txt"), content);
      awaitContent(to.resolve("d1").resolve("f1.txt"), content);
      out[i] = System.nanoTime() - start;
    }
    return out;
  }

  private static void awaitContent(Path p, byte[] content) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        if (Arrays.equals(Files.readAllBytes(p), content)) {
          return;
        }
      } catch (IOException e) {
        // not there yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + p);
      }
      Thread.onSpinWait();
    }
  }

  private static double pct(long[] nanos, int p) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    int idx = (int) Math.min(s.length - 1, Math.ceil(p / 100.0 * s.length) - 1);
    return s[Math.max(0, idx)] / 1e6;
  }
}
