package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * File hashing through each thread's reused read buffer: a file hashed after a larger one
 * (or after one that spanned several reads) must get its own hash and fingerprints, with
 * nothing left over from the earlier file.
 */
class ContentHashTest {
  @TempDir
  Path tmp;

  @Test
  void filesOfEverySizeHashedInTurnOnOneThreadGetTheirOwnHashesAndFingerprints() throws Exception {
    Random random = new Random(7);
    int[] sizes = {200_000, 10, 0, 65_536, 65_537, 3, 131_072 + 5, 1};
    for (int i = 0; i < sizes.length; i++) {
      byte[] data = new byte[sizes[i]];
      random.nextBytes(data);
      Path f = tmp.resolve("f" + i);
      Files.write(f, data);

      ContentHash.Hashed h = ContentHash.hashFile(f, 4096);

      assertThat(h.hash()).as("size %d", sizes[i])
          .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)));
      assertThat(h.length()).isEqualTo(sizes[i]);
      ContentHash.BlockHasher expected = new ContentHash.BlockHasher(4096);
      expected.update(data, 0, data.length);
      assertThat(Arrays.equals(h.blocks(), expected.finish())).as("fingerprints of size %d", sizes[i]).isTrue();
      assertThat(ContentHash.ofFile(f)).isEqualTo(ContentHash.of(data));
    }
  }
}
