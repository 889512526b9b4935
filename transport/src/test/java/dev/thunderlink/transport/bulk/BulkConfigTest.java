package dev.thunderlink.transport.bulk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.transport.PathKind;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BulkConfigTest {
  @Test
  void badValuesAreNamedWithWhatWasExpected() {
    assertThatThrownBy(() -> BulkConfig.defaults(List.of(Path.of("relative"))))
        .hasMessage("bulk.permittedRoots: relative (expected: an absolute path)");
    assertThatThrownBy(() -> BulkConfig.defaults(List.of()).withFrames(1 << 20, 2 << 20))
        .hasMessage("bulk.chunkBytes: 2097152 (expected: 4096..1048576, the max frame size)");
    assertThatThrownBy(() -> BulkConfig.defaults(List.of()).withFrames(1000, 4096))
        .hasMessage("bulk.maxFrameBytes: 1000 (expected: >= 131072)");
    assertThatThrownBy(() -> BulkConfig.defaults(List.of()).withStallTimeout(java.time.Duration.ZERO))
        .hasMessage("bulk.stallTimeout: PT0S (expected: > 0)");
    assertThatThrownBy(() -> BulkConfig.defaults(List.of()).withDiskThreads(0))
        .hasMessage("bulk.disk_threads: 0 (expected: 1..16)");
  }

  @Test
  void plaintextOnlyOnThunderboltAndOnlyWhenAllowed() {
    BulkConfig c = BulkConfig.defaults(List.of());
    assertThat(c.encrypts(PathKind.THUNDERBOLT)).isFalse();
    assertThat(c.encrypts(PathKind.LOOPBACK)).isFalse();
    assertThat(c.encrypts(PathKind.LAN)).isTrue();
    assertThat(c.encrypts(PathKind.WIFI)).isTrue();
    assertThat(c.withPlaintextOnThunderbolt(false).encrypts(PathKind.THUNDERBOLT)).isTrue();
  }

  @Test
  void digestSettingParsesItsThreeSpellingsAndNamesThemOnError() {
    assertThat(BulkConfig.DigestChoice.parse("auto")).isEqualTo(BulkConfig.DigestChoice.AUTO);
    assertThat(BulkConfig.DigestChoice.parse("XXH3-128")).isEqualTo(BulkConfig.DigestChoice.XXH3_128);
    assertThat(BulkConfig.DigestChoice.parse(" sha256 ")).isEqualTo(BulkConfig.DigestChoice.SHA256);
    assertThatThrownBy(() -> BulkConfig.DigestChoice.parse("md5"))
        .hasMessage("bulk.digest: md5 (expected: auto, xxh3-128 or sha256)");
    assertThat(BulkConfig.defaults(List.of()).digest()).isEqualTo(BulkConfig.DigestChoice.AUTO);
    assertThat(BulkConfig.DigestChoice.AUTO.wantsSha256(true)).isTrue();
    assertThat(BulkConfig.DigestChoice.AUTO.wantsSha256(false)).isFalse();
    assertThat(BulkConfig.DigestChoice.XXH3_128.wantsSha256(true)).isFalse();
    assertThat(BulkConfig.DigestChoice.SHA256.wantsSha256(false)).isTrue();
  }
}
