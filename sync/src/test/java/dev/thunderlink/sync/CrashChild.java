package dev.thunderlink.sync;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;

/** Runs an initial sync in a separate JVM so {@link KillNineTest} can kill it with SIGKILL. */
public final class CrashChild {
  private CrashChild() {}

  public static void main(String[] args) throws Exception {
    Path a = Paths.get(args[0]);
    Path b = Paths.get(args[1]);
    SyncSessionConfig c = SyncSessionConfig.builder("crash").localRoot(a).remoteRoot(b.toString())
        .stateDir(Paths.get(args[2])).deviceName("book").watch(false).build();
    try (SyncSession s = SyncSession.startLocal(c, b, "mini")) {
      s.flush(Duration.ofMinutes(5));
    }
  }
}
