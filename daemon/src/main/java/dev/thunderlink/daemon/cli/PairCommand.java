package dev.thunderlink.daemon.cli;

import dev.thunderlink.daemon.DaemonHome;
import dev.thunderlink.proto.control.ControlGrpc;
import dev.thunderlink.proto.control.NewPairingCodeRequest;
import dev.thunderlink.proto.control.NewPairingCodeResponse;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.LocalControlServer;
import dev.thunderlink.transport.PairedPeer;
import dev.thunderlink.transport.PairingClient;
import dev.thunderlink.transport.TransportFactory;
import io.netty.channel.EventLoopGroup;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code thunderlink pair}: on the host, print a one-time code; on the workstation, {@code
 * pair HOST CODE} pins the host's certificate and the host pins ours.
 */
@Command(
    name = "pair",
    mixinStandardHelpOptions = true,
    description = {
      "On the host: print a one-time pairing code (the host daemon must be running).",
      "On the workstation: thunderlink pair HOST[:PORT] CODE"
    })
public final class PairCommand implements Callable<Integer> {
  @Mixin HomeOption home;

  @Parameters(index = "0", arity = "0..1", paramLabel = "HOST[:PORT]", description = "The host to pair with (workstation side).")
  String host;

  @Parameters(index = "1", arity = "0..1", paramLabel = "CODE", description = "The code the host printed.")
  String code;

  @Option(names = "--ttl", paramLabel = "SECONDS", description = "How long the code works (host side, default ${DEFAULT-VALUE}).")
  int ttlSeconds = 300;

  @Option(names = "--transport", paramLabel = "NAME", description = "auto (default), kqueue, epoll, io-uring or nio.")
  String transport = "auto";

  @Option(names = "--json", description = "Print JSON for scripts.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    DaemonHome h = home.resolve();
    if (host == null) {
      return issue(h, out);
    }
    if (code == null) {
      throw new IllegalArgumentException("CODE: missing (expected: thunderlink pair HOST[:PORT] CODE)");
    }
    if (!dev.thunderlink.transport.PairingCodes.wellFormed(code)) {
      throw new IllegalArgumentException(dev.thunderlink.transport.PairingCodes.malformed(code)); // bad usage: exit 2
    }
    InetSocketAddress addr = LinkPath.parseHostPort(host, LinkPath.DEFAULT_PORT, "HOST");
    h.ensure();
    DeviceIdentity id = h.identity();
    TransportFactory tf = TransportFactory.select(transport);
    EventLoopGroup group = tf.newGroup(1, "thunderlink-pair");
    try {
      PairedPeer peer = PairingClient.pair(addr, code, id, h.peers(), tf, group, 15_000);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("paired", true);
      m.put("host_device_id", peer.deviceId());
      m.put("host_name", peer.deviceName());
      m.put("host_fingerprint", peer.fingerprint());
      m.put("device_id", id.deviceId());
      if (json) {
        JsonOut.print(out, m);
      } else {
        out.printf("paired with host %s (%s)%n", peer.deviceName(), peer.deviceId());
        out.printf("next: thunderlink connect %s%n", host);
        out.flush();
      }
      return 0;
    } catch (PairingClient.PairingException e) {
      throw new IllegalStateException(e.getMessage(), e);
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
  }

  private int issue(DaemonHome h, PrintWriter out) throws Exception {
    NewPairingCodeResponse r;
    try (LocalControlServer.Connection c = LocalControlServer.connect(h.dir())) {
      r =
          ControlGrpc.newBlockingStub(c.channel())
              .withDeadlineAfter(ControlCalls.QUICK_SECONDS, TimeUnit.SECONDS)
              .newPairingCode(NewPairingCodeRequest.newBuilder().setTtlSeconds(ttlSeconds).build());
    }
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("code", r.getCode());
      m.put("expires", Instant.ofEpochMilli(r.getExpiresUnixMillis()).toString());
      m.put("host_fingerprint", r.getFingerprint());
      m.put("addresses", r.getAddressesList());
      JsonOut.print(out, m);
    } else {
      out.printf("pairing code: %s (valid for %d s, one use)%n", r.getCode(), ttlSeconds);
      out.println("on the workstation run:");
      String addr = r.getAddressesCount() > 0 ? r.getAddresses(0) : "HOST";
      out.printf("  thunderlink pair %s %s%n", addr, r.getCode());
      out.flush();
    }
    return 0;
  }
}
