package dev.thunderlink.benchmarks;

import dev.thunderlink.benchmarks.internal.BenchLink;
import dev.thunderlink.benchmarks.internal.LinkPair;
import dev.thunderlink.benchmarks.internal.TreeFiles;
import dev.thunderlink.benchmarks.workload.TreeGenerator;
import dev.thunderlink.benchmarks.workload.TreeSpec;
import dev.thunderlink.sync.SyncHostService;
import dev.thunderlink.sync.SyncSession;
import dev.thunderlink.sync.SyncSessionConfig;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PeerLink;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The mirror over a link profile: a workstation {@link SyncSession} through the real link (through
 * the profile's emulator) to a host {@link SyncHostService}, on a generated source tree ({@link
 * TreeGenerator}, {@code files} of 1-16 KiB). {@code edit}: one small file written on the workstation
 * until the host's copy has the new content; {@code tenFiles}: 10 files changed at once until all
 * are there; {@code initialSync}: a new session of the whole tree to an empty host directory
 * (single shot each). Both copies are on this machine, so the host's is read directly; the bytes
 * still travel the link.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar SyncBenchmark -p files=20000 -p profile=thunderbolt,wifi
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class SyncBenchmark {

  @Param({"thunderbolt", "wifi"})
  public String profile;

  /** Files in the tree. */
  @Param({"1000"})
  public int files;

  private Path dir;
  private SyncHostService host;
  private LinkPair pair;
  private BenchLink path;
  private PeerLink link;
  private Path local;
  private Path remote;
  private SyncSession session;
  private List<Path> ten;
  private long counter;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    if (BenchLink.isRemote(profile)) {
      throw new IllegalStateException("profile " + profile + ": SyncBenchmark runs against a local host only");
    }
    dir = Files.createTempDirectory("sync-bench-");
    host = new SyncHostService(dir.resolve("host-state"), "bench-host", true, Duration.ofMillis(10));
    pair = LinkPair.start(host.bindService());
    path = BenchLink.open(profile, pair.hostAddress(), LinkPath.DEFAULT_PORT);
    link = pair.connect(BenchLink.pathName(profile), path.address(), BenchLink.kindOf(profile));
    local = dir.resolve("workstation");
    TreeGenerator.generate(TreeSpec.sourceTree(files), local);
    remote = dir.resolve("host");
    session = SyncSession.start(config("bench", remote), link.channel());
    session.flush(Duration.ofMinutes(30));
    ten = TreeFiles.pick(local, 10);
  }

  private SyncSessionConfig config(String name, Path remoteRoot) {
    return SyncSessionConfig.builder(name)
        .localRoot(local)
        .remoteRoot(remoteRoot.toString())
        .stateDir(dir.resolve("state-" + name))
        .deviceName("bench-workstation")
        .build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (session != null) {
      session.close();
    }
    if (pair != null) {
      pair.close();
    }
    if (path != null) {
      path.close();
    }
    if (host != null) {
      host.close();
    }
    TreeFiles.deleteTree(dir);
  }

  /** One small edit until the host has it. */
  @Benchmark
  public void edit() throws Exception {
    byte[] content = ("edit " + counter++ + "\n").getBytes(StandardCharsets.UTF_8);
    Path f = ten.get(0);
    Files.write(f, content);
    TreeFiles.awaitContent(remote.resolve(local.relativize(f).toString()), content, Duration.ofSeconds(30));
  }

  /** Ten files changed at once until all ten are on the host. */
  @Benchmark
  public void tenFiles() throws Exception {
    byte[][] contents = new byte[ten.size()][];
    long round = counter++;
    for (int i = 0; i < ten.size(); i++) {
      contents[i] = ("round " + round + " file " + i + "\n").getBytes(StandardCharsets.UTF_8);
      Files.write(ten.get(i), contents[i]);
    }
    for (int i = 0; i < ten.size(); i++) {
      TreeFiles.awaitContent(remote.resolve(local.relativize(ten.get(i)).toString()), contents[i], Duration.ofSeconds(30));
    }
  }

  /** The whole tree to an empty host directory by a new session (its start and close included). */
  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public void initialSync() throws Exception {
    String name = "initial-" + counter++;
    try (SyncSession fresh = SyncSession.start(config(name, dir.resolve(name)), link.channel())) {
      fresh.flush(Duration.ofMinutes(30));
    }
  }
}
