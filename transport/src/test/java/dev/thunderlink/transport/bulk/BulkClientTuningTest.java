package dev.thunderlink.transport.bulk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.TransportKind;
import dev.thunderlink.transport.TuningProfile;
import dev.thunderlink.transport.testing.LinkFixture;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A workstation's bulk connections take their socket options from its link's tuning (the
 * daemon's {@code [tuning.<kind>]}), as its gRPC channels do, not from the built-in profiles.
 */
class BulkClientTuningTest {
  @TempDir
  Path tmp;

  @Test
  void aLinksClientUsesTheLinksProfilesAndTheBuiltInOnesOtherwise() throws Exception {
    try (LinkFixture f = new LinkFixture(TransportKind.NIO, tmp)) {
      TuningProfile d = TuningProfile.defaults(PathKind.WIFI);
      TuningProfile wifi = new TuningProfile(PathKind.WIFI, 3_000_000, 3_000_000, d.writeBufferLowWaterMark(),
          d.writeBufferHighWaterMark(), d.flowControlWindowBytes(), false, d.probeIntervalMillis(),
          d.probeDeadlineMillis(), d.missedProbesToDown());
      PeerLink link = f.track(PeerLink.builder().identity(f.wsId).peers(f.wsPeers).transport(f.transport, f.workers)
          .tuning(wifi).addPath(new LinkPath("wifi", new InetSocketAddress("127.0.0.1", 9), PathKind.WIFI)).build());
      assertThat(link.tuning(PathKind.WIFI)).isEqualTo(wifi);
      BulkClient c = BulkClient.forLink(link).identity(f.wsId).peers(f.wsPeers).transport(f.transport, f.workers).build();
      assertThat(c.tuning(PathKind.WIFI)).isEqualTo(wifi);
      assertThat(c.tuning(PathKind.THUNDERBOLT)).isEqualTo(TuningProfile.defaults(PathKind.THUNDERBOLT));
      BulkClient plain = BulkClient.builder().control(link.channel()).target(java.util.Optional::empty).identity(f.wsId)
          .peers(f.wsPeers).transport(f.transport, f.workers).build();
      assertThat(plain.tuning(PathKind.WIFI)).isEqualTo(d);
    }
  }
}
