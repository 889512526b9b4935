package dev.thunderlink.transport.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.bulk.FileEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host's description of a partial file for a resume. */
class BulkControlServiceTest {
  @TempDir Path dir;

  @Test
  void aPartialFileIsDescribedByItsBytesAndTheirHash() throws Exception {
    Path dest = dir.resolve("model.bin");
    Path partial = Files.write(BulkConnection.partialPath(dest), "kept bytes".getBytes());
    FileEntry.Builder e = FileEntry.newBuilder();
    BulkControlService.describePartial(dest, partial, Files.size(partial), e);
    assertThat(e.getError()).isEmpty();
    assertThat(e.getPartialBytes()).isEqualTo(10);
    assertThat(e.getPartialSha256().toByteArray()).isEqualTo(MessageDigest.getInstance("SHA-256").digest("kept bytes".getBytes()));
  }

  /** Another copy to the same path truncated or renamed it between its stat and its read. */
  @Test
  void aPartialFileThatShrankWhileItWasReadSaysAnotherCopyMayBeRunning() throws Exception {
    Path dest = dir.resolve("model.bin");
    Path partial = Files.write(BulkConnection.partialPath(dest), "kept bytes".getBytes());
    FileEntry.Builder e = FileEntry.newBuilder();
    BulkControlService.describePartial(dest, partial, 4096, e); // its size when it was looked at
    assertThat(e.getError()).isEqualTo("cannot resume " + dest + " on the host: its partial file changed while it was read"
        + " (is another copy to the same path running?)");
    assertThat(e.getPartialBytes()).isZero();
    Files.delete(partial);
    e = FileEntry.newBuilder();
    BulkControlService.describePartial(dest, partial, 10, e);
    assertThat(e.getError()).startsWith("cannot resume " + dest + " on the host: its partial file changed");
  }
}
