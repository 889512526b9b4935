package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.sync.SyncMode;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Block deltas between two real directories: fingerprints kept from the scan's single hashing
 * pass (no extra read of either file), runs of reused blocks, the receiver's in-order hashing,
 * and the fall-back to a whole resend when fingerprints mislead.
 */
class BlockDeltaTest {
  private static final int BLOCK = 4096;

  @TempDir
  Path tmp;

  private Path ra;
  private Path rb;
  private DiskEndpoint a;
  private DiskEndpoint b;
  private StateStore state;
  private SessionEngine engine;

  @BeforeEach
  void open() throws Exception {
    ra = Files.createDirectories(tmp.resolve("a"));
    rb = Files.createDirectories(tmp.resolve("b"));
    a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
    b = DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false);
    a.fingerprintBlockSize(BLOCK);
    state = StateStore.open(tmp.resolve("session.db"));
    engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, a, b, state, BLOCK, 0.9, 1000, Clock.systemUTC());
  }

  @AfterEach
  void close() throws Exception {
    engine.close();
    a.close();
    b.close();
    state.close();
  }

  private static byte[] random(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  /** Writes and back-dates a file, so its stat is trusted (not "racy") at the next scan. */
  private static void put(Path p, byte[] data) throws Exception {
    Files.write(p, data);
    Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
  }

  private static void flip(Path p, long at) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.seek(at);
      int x = f.read();
      f.seek(at);
      f.write(x ^ 0x5a);
    }
    Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() - 30_000));
  }

  private void assertNoTempFiles(Path root) throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(IgnoreRules.TEMP_PREFIX));
    }
  }

  @Test
  void oneByteEditSendsOneBlockAndNeitherSideRereadsTheFileForFingerprints() throws Exception {
    byte[] data = random(256 * BLOCK + 100, 1);
    put(ra.resolve("big.bin"), data);
    engine.runUntilStable(true, false);
    assertThat(Files.mismatch(ra.resolve("big.bin"), rb.resolve("big.bin"))).isEqualTo(-1);
    long hashedA = a.filesHashed.get();
    long hashedB = b.filesHashed.get();
    long sent = engine.bytesSent();

    flip(ra.resolve("big.bin"), 100 * BLOCK + 7);
    engine.runUntilStable(true, false);
    assertThat(Files.mismatch(ra.resolve("big.bin"), rb.resolve("big.bin"))).isEqualTo(-1);
    assertThat(engine.bytesSent() - sent).isEqualTo(BLOCK);
    assertThat(a.filesHashed.get() - hashedA).as("the sender hashes the edited file once, in its scan").isEqualTo(1);
    assertThat(b.filesHashed.get() - hashedB).as("the receiver never re-hashes what it wrote").isZero();
    assertThat(a.blockListsRead.get() + b.blockListsRead.get()).as("fingerprints come from the index").isZero();

    // and back: the receiver's fingerprints were kept when it wrote the file
    sent = engine.bytesSent();
    flip(rb.resolve("big.bin"), 256L * BLOCK + 50); // the short last block
    flip(rb.resolve("big.bin"), 3);
    engine.runUntilStable(true, false);
    assertThat(Files.mismatch(ra.resolve("big.bin"), rb.resolve("big.bin"))).isEqualTo(-1);
    assertThat(engine.bytesSent() - sent).isEqualTo(BLOCK + 100);
    assertThat(a.blockListsRead.get() + b.blockListsRead.get()).isZero();
    assertNoTempFiles(ra);
    assertNoTempFiles(rb);
  }

  @Test
  void fingerprintsSurviveARestartOfTheSide() throws Exception {
    byte[] data = random(64 * BLOCK, 2);
    put(ra.resolve("f.bin"), data);
    engine.runUntilStable(true, false);
    engine.close();
    b.close();
    b = DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false);
    engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, a, b, state, BLOCK, 0.9, 1000, Clock.systemUTC());
    long sent = engine.bytesSent();
    flip(ra.resolve("f.bin"), 10 * BLOCK);
    engine.runUntilStable(true, false);
    assertThat(engine.bytesSent() - sent).isEqualTo(BLOCK);
    assertThat(b.blockListsRead.get()).isZero();
  }

  @Test
  void misleadingFingerprintsCostAWholeResendNeverAWrongFile() throws Exception {
    put(ra.resolve("f.bin"), random(32 * BLOCK, 3));
    engine.runUntilStable(true, false);
    b.changes(0, false, List.of()); // persists what the receiver kept
    byte[] edited = random(32 * BLOCK, 4);
    put(ra.resolve("f.bin"), edited);
    // the receiver's kept fingerprints now claim its old file already holds every new block
    byte[] lie = ContentHash.hashFile(ra.resolve("f.bin"), BLOCK).blocks();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + tmp.resolve("b.db"));
        PreparedStatement ps = c.prepareStatement("UPDATE blocks SET fingerprints=? WHERE path='f.bin'")) {
      ps.setBytes(1, lie);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    long sent = engine.bytesSent();
    engine.runUntilStable(true, false);
    assertThat(Files.readAllBytes(rb.resolve("f.bin"))).isEqualTo(edited);
    assertThat(engine.bytesSent() - sent).isEqualTo(edited.length);
    assertNoTempFiles(rb);
  }

  @Test
  void partsOutOfOrderAreVerifiedByReadingTheResultBack() throws Exception {
    byte[] data = random(3 * BLOCK, 5);
    Entry target = Entry.file(ContentHash.of(data), data.length, false, 0);
    ApplyResult r;
    try (Endpoint.FileUpload up = b.beginWrite("x.bin", null, target, BLOCK)) {
      up.write(2L * BLOCK, java.util.Arrays.copyOfRange(data, 2 * BLOCK, 3 * BLOCK));
      up.write(0, java.util.Arrays.copyOfRange(data, 0, 2 * BLOCK));
      r = up.commit();
    }
    assertThat(r.outcome()).isEqualTo(ApplyResult.Outcome.OK);
    assertThat(Files.readAllBytes(rb.resolve("x.bin"))).isEqualTo(data);

    byte[] wrong = data.clone();
    wrong[5] ^= 1;
    try (Endpoint.FileUpload up = b.beginWrite("y.bin", null, target, BLOCK)) {
      up.write(BLOCK, java.util.Arrays.copyOfRange(wrong, BLOCK, 3 * BLOCK));
      up.write(0, java.util.Arrays.copyOfRange(wrong, 0, BLOCK));
      r = up.commit();
    }
    assertThat(r.outcome()).isEqualTo(ApplyResult.Outcome.CHANGED);
    assertThat(rb.resolve("y.bin")).doesNotExist();
    assertNoTempFiles(rb);
  }

  @Test
  void oneHashingPassGivesTheFileHashAndItsBlockFingerprints() throws Exception {
    byte[] data = random(5 * BLOCK + 1, 6);
    Path f = tmp.resolve("f");
    Files.write(f, data);
    ContentHash.Hashed h = ContentHash.hashFile(f, BLOCK);
    assertThat(h.hash()).isEqualTo(ContentHash.of(data));
    assertThat(h.length()).isEqualTo(data.length);
    assertThat(h.blocks()).hasSize(6 * 8);
    ContentHash.BlockHasher one = new ContentHash.BlockHasher(BLOCK);
    one.update(data, 0, BLOCK);
    assertThat(ContentHash.BlockHasher.split(one.finish()).get(0)).isEqualTo(ContentHash.blocksOf(f, BLOCK).get(0));
    assertThat(ContentHash.hashFile(f).blocks()).isNull();
  }
}
