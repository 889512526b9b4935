package dev.thunderlink.daemon.service;

import dev.thunderlink.daemon.DaemonHome;
import java.nio.file.Path;

/** Child JVM for the stale-lock test: takes the daemon lock, says so, and waits to be killed. */
public final class LockHolderMain {
  private LockHolderMain() {}

  public static void main(String[] args) throws Exception {
    DaemonHome home = new DaemonHome(Path.of(args[0]));
    home.lock("serve");
    System.out.println("LOCKED pid " + ProcessHandle.current().pid());
    System.out.flush();
    new java.util.concurrent.CountDownLatch(1).await();
  }
}
