package dev.thunderlink.daemon.service;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What a service definition runs: the daemon role, the absolute java and jar (or class path),
 * the daemon's arguments and home. Both the launchd plist and the systemd unit are rendered
 * from this one object, so they start the same command.
 *
 * @param role {@code serve} (host) or {@code connect} (workstation)
 * @param java absolute path of the java launcher
 * @param jar absolute path of the thunderlink jar; or, when {@code classPath} is set, ignored
 * @param classPath a class path to run {@code mainClass} from instead of a jar (development builds)
 * @param args the daemon's own arguments after the role
 * @param home the daemon home, passed as {@code THUNDERLINK_HOME}
 * @param shutdownGraceSeconds the daemon's drain time; the service manager waits a little longer before SIGKILL
 */
public record ServiceSpec(
    String role, Path java, Path jar, String classPath, List<String> args, Path home, int shutdownGraceSeconds) {
  public static final String MAIN_CLASS = "dev.thunderlink.daemon.Main";
  /**
   * JVM options for a long-running daemon: G1 gives unused heap back to the OS when idle
   * (a periodic collection every 30 s while nothing else collects) and keeps little free heap
   * committed, so a daemon that indexed a large tree once does not hold gigabytes it no longer
   * uses (measured with {@code benchmarks/sync-rss.sh}). Code reaches the quick compiler (C1) 10x
   * sooner and the optimizing one (C2) at its usual thresholds (the scaling divides the Tier4
   * thresholds, set to 10x the defaults, back to them): a freshly started pair added less to the
   * first token, the initial sync cost the same, and a large copy's hash and cipher still
   * reach C2; the inference fronts' own code (the inference package, Jackson, Netty's HTTP codec) reaches
   * C2 10x sooner, so that the start-up warm-up compiles it (figures in the {@code ./thunderlink}
   * launcher). The same list is in the launcher for
   * {@code serve}, {@code connect} and {@code demo}.
   */
  public static final List<String> DAEMON_JVM_OPTIONS =
      List.of(
          "-XX:+UseG1GC",
          "-XX:G1PeriodicGCInterval=30000",
          "-XX:MinHeapFreeRatio=10",
          "-XX:MaxHeapFreeRatio=30",
          "-XX:CompileThresholdScaling=0.1",
          "-XX:Tier4InvocationThreshold=50000",
          "-XX:Tier4MinInvocationThreshold=6000",
          "-XX:Tier4CompileThreshold=150000",
          "-XX:Tier4BackEdgeThreshold=400000",
          "-XX:CompileCommand=quiet",
          "-XX:CompileCommand=CompileThresholdScaling,dev.thunderlink.inference.*::*,0.1",
          "-XX:CompileCommand=CompileThresholdScaling,com.fasterxml.jackson.*::*,0.1",
          "-XX:CompileCommand=CompileThresholdScaling,io.netty.handler.codec.http.*::*,0.1");
  /** Set in the service's environment: logging goes to rolling files under HOME/logs. */
  public static final String SERVICE_ENV = "THUNDERLINK_SERVICE";

  public ServiceSpec {
    role = checkRole(role);
    Objects.requireNonNull(java, "java");
    if (!java.isAbsolute()) {
      throw new IllegalArgumentException("java: " + java + " (expected: an absolute path)");
    }
    if (classPath == null) {
      Objects.requireNonNull(jar, "jar");
      if (!jar.isAbsolute()) {
        throw new IllegalArgumentException("--jar: " + jar + " (expected: an absolute path)");
      }
    }
    args = List.copyOf(args);
    home = home.toAbsolutePath().normalize();
    if (shutdownGraceSeconds < 0) {
      throw new IllegalArgumentException("shutdown grace: " + shutdownGraceSeconds + " (expected: >= 0)");
    }
  }

  /** True when this process was started by a service definition written by {@code service install}. */
  public static boolean runningAsService() {
    return "1".equals(System.getenv(SERVICE_ENV));
  }

  public static String checkRole(String role) {
    String r = role == null ? "" : role.toLowerCase(Locale.ROOT);
    if (!r.equals("serve") && !r.equals("connect")) {
      throw new IllegalArgumentException("role: " + role + " (expected: serve or connect)");
    }
    return r;
  }

  /** The full command line the service manager starts. */
  public List<String> commandLine() {
    List<String> cmd = new ArrayList<>();
    cmd.add(java.toString());
    cmd.addAll(DAEMON_JVM_OPTIONS);
    cmd.add("-Dlogback.configurationFile=logback-service.xml");
    cmd.add("-Dthunderlink.log.dir=" + home.resolve("logs"));
    if (classPath != null) {
      cmd.add("-cp");
      cmd.add(classPath);
      cmd.add(MAIN_CLASS);
    } else {
      cmd.add("-jar");
      cmd.add(jar.toString());
    }
    cmd.add(role);
    cmd.addAll(args);
    return cmd;
  }

  /** How long the service manager should wait after SIGTERM before it kills: the grace plus a margin. */
  public int stopTimeoutSeconds() {
    return shutdownGraceSeconds + 5;
  }

  public String description() {
    return "thunderlink " + role + (role.equals("serve") ? " (host daemon)" : " (workstation daemon)");
  }
}
