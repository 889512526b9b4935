package dev.thunderlink.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./thunderlink} launcher's choice of JVM options for the short commands, run with a
 * stand-in {@code java} that records its arguments and a PATH that holds nothing else but
 * {@code readlink} (and {@code rm}/{@code mv}/{@code nice}, which only a run that drops or writes a
 * class archive uses): the launcher runs before every command, and each program it started cost the
 * command's start-up.
 */
class LauncherTest {
  private static final Path LAUNCHER = Path.of("..", "thunderlink").toAbsolutePath().normalize();
  /** The options of the short commands but {@code cp}. */
  private static final String QUICK =
      "-XX:TieredStopAtLevel=1 -XX:Tier3InvocationThreshold=1000 -XX:Tier3MinInvocationThreshold=500 -XX:Tier3CompileThreshold=10000 -XX:+UseSerialGC";

  @TempDir Path tmp;

  /**
   * A stand-in JDK of that feature version; returns its directory. Its java records its arguments
   * (one line per run), writes the class list it is asked for, makes a class archive of a list when
   * run with {@code -Xshare:dump}, and fails (exit 3) when the command is {@code fail}.
   */
  private Path jdk(String version) throws IOException {
    Path home = Files.createDirectories(tmp.resolve("jdk-" + version));
    Path bin = Files.createDirectories(home.resolve("bin"));
    Path java = bin.resolve("java");
    Files.writeString(java, "#!/bin/sh\necho \"$@\" >>\"" + tmp.resolve("java.args") + "\"\n"
        + "dump=; case \" $* \" in *\" -Xshare:dump \"*) dump=1 ;; esac\n"
        + "for a in \"$@\"; do case \"$a\" in\n"
        + "  -XX:DumpLoadedClassList=*) echo classes >\"${a#*=}\" ;;\n"
        + "  -XX:SharedClassListFile=*) list=\"${a#*=}\" ;;\n"
        + "  -XX:SharedArchiveFile=*) [ -n \"$dump\" ] && read -r c <\"$list\" && echo \"dumped from $c\" >\"${a#*=}\" ;;\n"
        + "esac; done\n"
        + "case \" $* \" in *\" fail \"*) exit 3 ;; esac\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
    return home;
  }

  private Path tools() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("tools"));
    for (String t : List.of("readlink", "rm", "mv", "nice")) {
      Path real = Path.of("/usr/bin", t);
      Files.createSymbolicLink(dir.resolve(t), Files.exists(real) ? real : Path.of("/bin", t));
    }
    return dir;
  }

  /** Runs the launcher, which must succeed; returns the arguments java got. */
  private String run(Path jdk, Path jar, String... args) throws Exception {
    return run(0, jdk, jar, args);
  }

  /**
   * Runs the launcher, which must exit with {@code rc}; returns the arguments of the first java it
   * ran (the command; {@link #javaRuns} has any after it).
   */
  private String run(int rc, Path jdk, Path jar, String... args) throws Exception {
    return run(rc, Map.of(), jdk, jar, args);
  }

  /** Runs the launcher with those variables set too; as {@link #run(int, Path, Path, String...)}. */
  private String run(int rc, Map<String, String> env, Path jdk, Path jar, String... args) throws Exception {
    Files.deleteIfExists(tmp.resolve("java.args"));
    List<String> cmd = new java.util.ArrayList<>(List.of("/bin/bash", LAUNCHER.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("THUNDERLINK_"));
    pb.environment().put("PATH", jdk.resolve("bin") + ":" + tmp.resolve("tools"));
    pb.environment().put("THUNDERLINK_JAR", jar.toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isEqualTo(rc);
    assertThat(out).isEmpty();
    return javaRuns().get(0);
  }

  /** The arguments of each java the last launcher run started, in order. */
  private List<String> javaRuns() throws IOException {
    return Files.readAllLines(tmp.resolve("java.args"));
  }

  /** A stand-in Java 17 and a jar, with only the launcher's tools on the PATH. */
  private Path jdk17;
  private Path jar;

  @BeforeEach
  void standIns() throws Exception {
    assumeTrue(Files.isRegularFile(LAUNCHER) && Files.isExecutable(Path.of("/bin/bash")), "run from the daemon module of the repository");
    tools();
    jdk17 = jdk("17.0.15");
    jar = Files.writeString(tmp.resolve("x.jar"), "jar");
  }

  @Test
  void shortCommandsGetTheirOptionsAndClassArchiveWithNoProgramButReadlinkAndJava() throws Exception {
    String a = jar.toString().replace(".jar", "");

    String first = run(jdk17, jar, "cp", "a", "host:b");
    assertThat(first).startsWith("-XX:Tier4InvocationThreshold=50000 ").contains(" -XX:DumpLoadedClassList=" + a + "-cp.jsa.")
        .endsWith(" -Xshare:auto -Xlog:cds=off,cds+dynamic=off -jar " + jar + " cp a host:b");
    // Java 17's dynamic archive would leave picocli's Java 5 class files out: a static one of the
    // run's class list holds them
    assertThat(javaRuns()).hasSize(2);
    assertThat(javaRuns().get(1)).startsWith("-Xshare:dump -XX:SharedClassListFile=" + a + "-cp.jsa.").endsWith(" -cp " + jar);
    assertThat(Path.of(a + "-cp.jsa")).hasContent("dumped from classes");
    try (var left = Files.list(tmp)) {
      assertThat(left.map(Path::toString)).noneMatch(n -> n.contains(".jsa."));
    }
    assertThat(Files.readString(Path.of(a + ".cds-jvm")).trim()).isEqualTo(jdk17.toRealPath().toString());

    Path archive = Files.writeString(Path.of(a + "-cp.jsa"), "archive");
    Files.setLastModifiedTime(archive, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 1000));
    assertThat(run(jdk17, jar, "cp", "a", "host:b")).contains(" -XX:SharedArchiveFile=" + archive + " -Xshare:auto ").doesNotContain("DumpLoadedClassList");
    assertThat(javaRuns()).hasSize(1);
    assertThat(run(jdk17, jar, "status", "--json")).startsWith(QUICK + " -XX:DumpLoadedClassList=" + a + "-status.jsa.");
    // the subcommands of sync load different classes: one archive each
    assertThat(run(jdk17, jar, "sync", "flush", "tree")).contains(" -XX:DumpLoadedClassList=" + a + "-sync-flush.jsa.");
    assertThat(Path.of(a + "-sync-flush.jsa")).hasContent("dumped from classes");
    assertThat(run(jdk17, jar, "sync", "--help")).contains(" -XX:DumpLoadedClassList=" + a + "-sync.jsa.");

    // another JVM: the archives of the old one go, and Java 19+ keeps its archive up to date itself
    Path jdk25 = jdk("25.0.3");
    assertThat(run(jdk25, jar, "cp", "a", "host:b")).contains(" -XX:SharedArchiveFile=" + archive + " -XX:+AutoCreateSharedArchive ");
    assertThat(archive).doesNotExist();
    assertThat(Files.readString(Path.of(a + ".cds-jvm")).trim()).isEqualTo(jdk25.toRealPath().toString());

    // another jar in the same directory, run by another JVM, leaves this jar's archive alone
    Path archive25 = Files.writeString(Path.of(a + "-cp.jsa"), "archive");
    Files.setLastModifiedTime(archive25, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 1000));
    Path other = Files.writeString(tmp.resolve("y.jar"), "jar");
    assertThat(run(jdk17, other, "cp", "a", "host:b")).contains(" -jar " + other + " ");
    assertThat(archive25).exists();
    assertThat(run(jdk25, jar, "cp", "a", "host:b")).contains(" -XX:SharedArchiveFile=" + archive25 + " ");
    assertThat(archive25).exists();
  }

  @Test
  void aRunThatPrintsHelpOrTheVersionUsesTheArchiveButNeverMakesOne() throws Exception {
    String a = jar.toString().replace(".jar", "");
    // `sync create --help` loads picocli's usage classes and none of create's: an archive of it
    // would serve every real `sync create`
    assertThat(run(jdk17, jar, "sync", "create", "--help")).doesNotContain("DumpLoadedClassList").doesNotContain("SharedArchiveFile");
    assertThat(javaRuns()).hasSize(1);
    assertThat(Path.of(a + "-sync-create.jsa")).doesNotExist();
    assertThat(run(jdk17, jar, "cp", "-V")).doesNotContain("DumpLoadedClassList");
    assertThat(run(jdk17, jar, "serve", "-h")).doesNotContain("DumpLoadedClassList");
    assertThat(run(jdk17, jar, "connect", "--version")).doesNotContain("DumpLoadedClassList");
    try (var left = Files.list(tmp)) {
      assertThat(left.map(Path::toString)).noneMatch(n -> n.contains(".jsa"));
    }
    // the real run makes it; help then runs from it (Java 19+ too, without making one)
    assertThat(run(jdk17, jar, "sync", "create", "p", "--local", "x", "--remote", "y"))
        .contains(" -XX:DumpLoadedClassList=" + a + "-sync-create.jsa.");
    assertThat(Path.of(a + "-sync-create.jsa")).hasContent("dumped from classes");
    assertThat(run(jdk17, jar, "sync", "create", "--help"))
        .contains(" -XX:SharedArchiveFile=" + a + "-sync-create.jsa -Xshare:auto ").doesNotContain("DumpLoadedClassList");
    Path jdk25 = jdk("25.0.3");
    assertThat(run(jdk25, jar, "sync", "flush", "--help")).doesNotContain("SharedArchiveFile");
    // an argument after -- is the command's, not a request for help; a group's runs all print help
    assertThat(run(jdk17, jar, "cp", "--", "-h", "host:b")).contains(" -XX:DumpLoadedClassList=" + a + "-cp.jsa.");
    assertThat(run(jdk17, jar, "sync", "--help")).contains(" -XX:DumpLoadedClassList=" + a + "-sync.jsa.");
  }

  @Test
  void aClassArchiveIsKeptOnlyFromARunThatSucceeded() throws Exception {
    Path archive = Path.of(jar.toString().replace(".jar", "") + "-cp.jsa");

    // a command that fails early (no paired host, a typo) loaded a fraction of the classes: its
    // archive would serve every later run of the command
    assertThat(run(3, jdk17, jar, "cp", "fail")).contains(" -XX:DumpLoadedClassList=" + archive + ".");
    assertThat(javaRuns()).hasSize(1);
    assertThat(archive).doesNotExist();
    try (var left = Files.list(tmp)) {
      assertThat(left.map(Path::toString)).noneMatch(n -> n.contains(".jsa."));
    }
    assertThat(run(jdk17, jar, "cp", "a", "host:b")).contains(" -XX:DumpLoadedClassList=" + archive + ".");
    assertThat(archive).hasContent("dumped from classes");
  }
  @Test
  void aDaemonRunsFromTheClassArchiveOfAStoppedDaemonsClassListMadeInTheBackground() throws Exception {
    String a = jar.toString().replace(".jar", "");
    Path archive = Path.of(a + "-serve.jsa");

    // the first start lists the classes the daemon loads while it runs, under its pid (exec keeps
    // the launcher's); the launcher runs nothing after a daemon
    String first = run(jdk17, jar, "serve", "--listen", "127.0.0.1:1");
    assertThat(first).startsWith("-XX:+UseG1GC ").contains(" -XX:DumpLoadedClassList=" + a + "-serve.jsa.")
        .endsWith(".classes -Xshare:auto -Xlog:cds=off,cds+dynamic=off -jar " + jar + " serve --listen 127.0.0.1:1");
    assertThat(javaRuns()).hasSize(1);
    // a list whose daemon still runs is not complete: left alone (this test's JVM stands for that daemon)
    Path running = Files.move(classLists("serve").get(0), Path.of(a + "-serve.jsa." + ProcessHandle.current().pid() + ".classes"));
    assertThat(run(jdk17, jar, "serve")).contains(" -XX:DumpLoadedClassList=" + a + "-serve.jsa.");
    assertThat(running).exists();
    assertThat(archive).doesNotExist();
    assertThat(classLists("serve")).hasSize(2);

    // the next start makes the archive of the stopped daemon's list, in the background (nothing of
    // it on the launcher's output), and runs without an archive and without listing
    run(jdk17, jar, "serve");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(archive).hasContent("dumped from classes"));
    // in either order: the dump starts before the launcher execs the daemon
    assertThat(javaRuns()).hasSize(2).anySatisfy(daemon -> assertThat(daemon).startsWith("-XX:+UseG1GC ")
        .doesNotContain("DumpLoadedClassList").doesNotContain("SharedArchiveFile").endsWith(" -jar " + jar + " serve"))
        .anySatisfy(dump -> assertThat(dump).startsWith("-Xshare:dump -XX:SharedClassListFile=" + a + "-serve.jsa.").endsWith(" -cp " + jar));
    assertThat(classLists("serve")).containsExactly(running);
    try (var left = Files.list(tmp)) {
      assertThat(left.map(Path::toString)).noneMatch(n -> n.endsWith(".dumping") || n.endsWith(".tmp"));
    }

    // the start after that runs from it; the other roles load other classes and keep their own
    assertThat(run(jdk17, jar, "serve")).contains(" -XX:SharedArchiveFile=" + archive + " -Xshare:auto ").doesNotContain("DumpLoadedClassList");
    assertThat(run(jdk17, jar, "connect", "h:1")).contains(" -XX:DumpLoadedClassList=" + a + "-connect.jsa.");
    // a list from an older jar is dropped, not made into an archive
    Path old = classLists("connect").get(0);
    Files.setLastModifiedTime(old, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 1000));
    assertThat(run(jdk17, jar, "connect", "h:1")).contains(" -XX:DumpLoadedClassList=" + a + "-connect.jsa.");
    assertThat(old).doesNotExist();
    assertThat(javaRuns()).hasSize(1);

    // THUNDERLINK_DAEMON_JVM_OPTS replaces the options and the archive
    assertThat(run(0, Map.of("THUNDERLINK_DAEMON_JVM_OPTS", "-Xmx1g"), jdk17, jar, "serve")).isEqualTo("-Xmx1g -jar " + jar + " serve");
    // Java 19+ makes and updates its archive itself (when the daemon stops)
    assertThat(run(jdk("25.0.3"), jar, "serve")).contains(" -XX:SharedArchiveFile=" + archive + " -XX:+AutoCreateSharedArchive -Xshare:auto ");
  }

  @Test
  void withNowhereToKeepAClassArchiveCommandsAndDaemonsRunWithout() throws Exception {
    // a directory that cannot be written (here: one that does not exist, since the tests may run as root)
    Path away = tmp.resolve("missing").resolve("x.jar");
    assertThat(run(jdk17, away, "status")).isEqualTo(QUICK + " -jar " + away + " status");
    assertThat(run(jdk17, away, "serve")).startsWith("-XX:+UseG1GC ").doesNotContain("Xshare").endsWith(" -jar " + away + " serve");
  }

  @Test
  void twoCommandsStartedTogetherOnStaleSourcesBuildOnceAndBothRun() throws Exception {
    // a checkout of the launcher whose sources are newer than its (missing) jar, and a stand-in
    // Maven that takes a while, counts its runs and makes the jar
    Path co = Files.createDirectories(tmp.resolve("co"));
    Files.copy(LAUNCHER, co.resolve("thunderlink"));
    Files.createDirectories(co.resolve("daemon/src"));
    Files.writeString(co.resolve("daemon/src/A.java"), "class A {}");
    Path bin = Files.createDirectories(tmp.resolve("build-tools"));
    for (String t : List.of("readlink", "rm", "mv", "nice", "find", "mkdir", "cat", "sleep")) {
      Path real = Path.of("/usr/bin", t);
      Files.createSymbolicLink(bin.resolve(t), Files.exists(real) ? real : Path.of("/bin", t));
    }
    Path mvn = bin.resolve("mvn");
    Files.writeString(mvn, "#!/bin/sh\necho run >>\"" + tmp.resolve("mvn.runs") + "\"\nsleep 2\n"
        + "mkdir -p daemon/target && echo jar >daemon/target/thunderlink.jar\n");
    Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
    List<Process> ps = new java.util.ArrayList<>();
    for (int i = 0; i < 2; i++) {
      ps.add(status(co, bin));
    }
    StringBuilder out = new StringBuilder();
    for (Process p : ps) {
      String o = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(o).isZero();
      out.append(o);
    }
    assertThat(Files.readAllLines(tmp.resolve("mvn.runs"))).as(out.toString()).hasSize(1);
    assertThat(out.toString()).contains("thunderlink: building").contains("waiting for another build of this checkout");
    // both commands ran from the one jar (a class archive made after the first may add a java run)
    assertThat(javaRuns()).filteredOn(a -> a.endsWith(" status")).hasSize(2)
        .allSatisfy(a -> assertThat(a).endsWith(" -jar " + co.resolve("daemon/target/thunderlink.jar") + " status"));
    assertThat(co.resolve(".thunderlink-build.lock")).doesNotExist();

    // a lock left by a build that was killed (its PID gone) does not hold the next one up
    Files.writeString(co.resolve("daemon/src/A.java"), "class A { int changed; }");
    Files.setLastModifiedTime(co.resolve("daemon/src/A.java"), FileTime.fromMillis(System.currentTimeMillis() + 5000));
    Path stale = Files.createDirectories(co.resolve(".thunderlink-build.lock"));
    Process dead = new ProcessBuilder("true").start();
    dead.waitFor();
    Files.writeString(stale.resolve("pid"), Long.toString(dead.pid()));
    Process p = status(co, bin);
    String o = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(o).isZero();
    assertThat(Files.readAllLines(tmp.resolve("mvn.runs"))).hasSize(2);
    assertThat(stale).doesNotExist();
  }

  /** {@code thunderlink status} started from checkout {@code co}, with only {@code bin} and the stand-in Java on the PATH. */
  private Process status(Path co, Path bin) throws IOException {
    ProcessBuilder pb = new ProcessBuilder("/bin/bash", co.resolve("thunderlink").toString(), "status").redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("THUNDERLINK_"));
    pb.environment().put("PATH", jdk17.resolve("bin") + ":" + bin);
    return pb.start();
  }

  /** The class lists of that daemon role's runs, beside the jar. */
  private List<Path> classLists(String role) throws IOException {
    String prefix = jar.getFileName().toString().replace(".jar", "") + "-" + role + ".jsa.";
    try (var files = Files.list(tmp)) {
      return files.filter(f -> f.getFileName().toString().startsWith(prefix) && f.toString().endsWith(".classes")).sorted().toList();
    }
  }
}
