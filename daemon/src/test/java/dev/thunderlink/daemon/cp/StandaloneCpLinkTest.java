package dev.thunderlink.daemon.cp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.daemon.config.ConfigLoader;
import dev.thunderlink.daemon.config.ThunderlinkConfig;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PairedPeer;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkServer;
import dev.thunderlink.transport.bulk.BulkSession;
import dev.thunderlink.transport.bulk.PushItem;
import dev.thunderlink.transport.bulk.TransferListener;
import dev.thunderlink.transport.bulk.TransferResult;
import dev.thunderlink.transport.testing.LinkFixture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cp --standalone} (and {@code cp} with no daemon running) makes its link as
 * {@code connect} would from the same home: config.toml's paths and tuning, not only the
 * address recorded at pairing and the built-in profiles.
 */
class StandaloneCpLinkTest {
  @TempDir Path tmp;

  @Test
  void theLinkTakesConfigsPathsAndTuningAndTheCopyGoesThroughIt() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    try (LinkFixture fx = new LinkFixture(TransportFactory.auto().kind(), tmp)) {
      BulkServer bulk = new BulkServer(BulkConfig.defaults(List.of(root)), fx.hostPeers);
      fx.startHost(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)), b -> b.addService(bulk.controlService()).bulk(bulk));
      fx.pair();
      // config names the host's address as a Thunderbolt path "tb"; the recorded one would be "paired", loopback
      Path home = tmp.resolve("ws");
      Files.writeString(home.resolve("config.toml"), "[workstation]\npaths = [ { name = \"tb\", address = \"127.0.0.1:"
          + fx.hostAddress().getPort() + "\", kind = \"thunderbolt\" } ]\n[tuning.thunderbolt]\nsend_buffer_bytes = 3000000\n");
      ThunderlinkConfig cfg = ConfigLoader.load(home).config();
      PairedPeer host = fx.wsPeers.peers().get(0);

      PeerLink configured = fx.track(StandaloneCpLink.link(cfg, host, List.of())
          .identity(fx.wsId).peers(fx.wsPeers).transport(fx.transport, fx.workers).build());
      assertThat(configured.paths()).extracting(p -> p.path().name()).containsExactly("tb");
      assertThat(configured.tuning(PathKind.THUNDERBOLT).sendBufferBytes()).isEqualTo(3_000_000);
      // a --path on the command line still comes first
      PeerLink explicit = fx.track(StandaloneCpLink.link(cfg, host, List.of(LinkPath.parse("lo=127.0.0.1:" + fx.hostAddress().getPort())))
          .identity(fx.wsId).peers(fx.wsPeers).transport(fx.transport, fx.workers).build());
      assertThat(explicit.paths()).extracting(p -> p.path().name()).containsExactly("lo");

      // the command's own link, opened from the home: the copy arrives over the configured path
      try (CpLink.Connected c = new StandaloneCpLink(Duration.ofSeconds(10), BulkConfig.defaults(List.of())).open(home)) {
        assertThat(c.client().tuning(PathKind.THUNDERBOLT)).isEqualTo(cfg.tuning(PathKind.THUNDERBOLT));
        Path f = Files.writeString(tmp.resolve("notes.txt"), "notes\n".repeat(100));
        try (BulkSession s = c.client().open()) {
          assertThat(s.path().name()).isEqualTo("tb");
          List<TransferResult> r = s.push(List.of(new PushItem(f, root.resolve("notes.txt").toString(), null, null)), TransferListener.NONE);
          assertThat(r).singleElement().satisfies(t -> assertThat(t.ok()).as(String.valueOf(t.error())).isTrue());
        }
      }
      assertThat(root.resolve("notes.txt")).hasContent("notes\n".repeat(100));
    }
  }

  @Test
  void aBadConfigFailsTheCopyWithTheKeyThatIsWrong() throws Exception {
    try (LinkFixture fx = new LinkFixture(TransportFactory.auto().kind(), tmp)) {
      fx.startHost();
      fx.pair();
      Path home = tmp.resolve("ws");
      Files.writeString(home.resolve("config.toml"), "[tuning.thunderbolt]\nsend_buffer_bytes = -5\n");
      assertThatThrownBy(() -> new StandaloneCpLink(Duration.ofSeconds(2), BulkConfig.defaults(List.of())).open(home))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("tuning.thunderbolt.send_buffer_bytes");
    }
  }
}
