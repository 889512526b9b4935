package dev.thunderlink.daemon.cli;

import dev.thunderlink.transport.PairedPeer;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code thunderlink peers}: the pinned peers of this home. */
@Command(name = "peers", mixinStandardHelpOptions = true, description = "List paired peers.")
public final class PeersCommand implements Callable<Integer> {
  @Mixin HomeOption home;

  @Option(names = "--json", description = "Print JSON for scripts.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    List<PairedPeer> peers = home.resolve().peers().peers();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      List<Map<String, Object>> l = new ArrayList<>();
      for (PairedPeer p : peers) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device_id", p.deviceId());
        m.put("name", p.deviceName());
        m.put("role", p.role());
        m.put("fingerprint", p.fingerprint());
        m.put("paired_at", Instant.ofEpochMilli(p.pairedAtMillis()).toString());
        m.put("addresses", p.addresses());
        l.add(m);
      }
      JsonOut.print(out, l);
      return 0;
    }
    if (peers.isEmpty()) {
      out.println("no paired peers; pair with `thunderlink pair`");
    }
    for (PairedPeer p : peers) {
      out.printf("%s  %-12s %-20s paired %s%n", p.deviceId(), p.role(), p.deviceName(), Instant.ofEpochMilli(p.pairedAtMillis()));
    }
    out.flush();
    return 0;
  }
}
