package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.sync.SyncMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A path's problem in {@code sync status} lasts as long as the problem, on real sides on disk. */
class PathErrorsTest {
  @TempDir
  Path tmp;

  /**
   * An apply that failed on a path is reported until the path syncs, and no longer once both
   * sides hold the same there, even when no apply made them so: a soak's status kept the failure
   * of a host killed mid-apply after the sides had agreed again. Here the host refuses the exec
   * bit once, and its user then sets it by hand.
   */
  @Test
  void aFailedApplyIsNoLongerAProblemOnceBothSidesAgree() throws Exception {
    Path ra = Files.createDirectories(tmp.resolve("a"));
    Path rb = Files.createDirectories(tmp.resolve("b"));
    Files.writeString(ra.resolve("run.sh"), "#!/bin/sh\n");
    Files.writeString(ra.resolve("other.txt"), "other");
    AtomicBoolean refuse = new AtomicBoolean();
    try (DiskEndpoint a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
        DiskEndpoint b = DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false);
        StateStore state = StateStore.open(tmp.resolve("session.db"))) {
      // the host side, refusing run.sh's attributes while asked to (a real refusal's words)
      Endpoint remote = EndpointHook.around(() -> b, (method, args, call) -> {
        if (!refuse.get() || !method.equals("applyAll")) {
          return call.proceed();
        }
        List<ApplyResult> out = new ArrayList<>();
        for (Endpoint.Op op : (List<Endpoint.Op>) args[0]) {
          out.add(op.path().equals("run.sh") ? ApplyResult.failed("run.sh: Operation not permitted") : b.apply(op));
        }
        return out;
      });
      SessionEngine engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, a, remote, state, 4096, 0.9, 1000,
          Clock.systemUTC());
      try {
        engine.runUntilStable(true, false);
        refuse.set(true);
        Files.setPosixFilePermissions(ra.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        engine.runUntilStable(true, false);
        assertThat(engine.errors()).containsEntry("run.sh", "run.sh: Operation not permitted");

        refuse.set(false);
        Files.setPosixFilePermissions(rb.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setLastModifiedTime(rb.resolve("run.sh"), Files.getLastModifiedTime(ra.resolve("run.sh")));
        engine.runUntilStable(true, false);
        assertThat(engine.errors()).as("both sides are +x now").doesNotContainKey("run.sh");
      } finally {
        engine.close();
      }
    }
  }
}
