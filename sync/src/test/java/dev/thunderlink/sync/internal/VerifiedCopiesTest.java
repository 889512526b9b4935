package dev.thunderlink.sync.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Installs of pushed copies the bulk plane of the same process verified ({@link VerifiedCopies}),
 * on the real file system: such a copy is not hashed again while its stat shows it untouched
 * since, and anything else is hashed as before.
 */
class VerifiedCopiesTest {
  @TempDir Path tmp;

  private Path root;
  private DiskEndpoint side;
  private VerifiedCopies copies;
  private final long past = System.currentTimeMillis() - 60_000;

  @BeforeEach
  void open() throws Exception {
    root = Files.createDirectories(tmp.resolve("root"));
    side = DiskEndpoint.open(root, tmp.resolve("index.db"), DiskEndpoint.Options.defaults("mini"), false);
    copies = new VerifiedCopies(16);
    side.trustVerifiedCopies(copies);
    side.changes(0, true, List.of());
  }

  @AfterEach
  void close() throws Exception {
    side.close();
  }

  private static byte[] sha256(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }

  private static Entry target(byte[] content, long mtime) {
    return Entry.file(ContentHash.of(content), content.length, false, mtime);
  }

  /** Where the bulk plane leaves the staged copy of {@code staged}: its partial name beside it. */
  private Path partial(String staged) {
    return root.resolve(staged).resolveSibling(IgnoreRules.bulkPartialName(PathNames.fileName(staged)));
  }

  /**
   * What the bulk plane does for a staged push of {@code content} with the sender's {@code
   * mtime}: writes the partial copy, sets its mtime, and (if {@code report}) tells the
   * registry the SHA-256 it computed while writing. Returns the staged path.
   */
  private String pushed(String path, byte[] content, long mtime, boolean report) throws Exception {
    String staged = (path.contains("/") ? path.substring(0, path.lastIndexOf('/') + 1) : "") + DiskEndpoint.tempName();
    Path p = partial(staged);
    Files.createDirectories(p.getParent());
    Files.write(p, content);
    Files.setLastModifiedTime(p, FileTime.fromMillis(mtime));
    if (report) {
      copies.verified(p, content.length, mtime, sha256(content));
    }
    return staged;
  }

  private void assertNoTempFiles() throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(IgnoreRules::isTemp);
    }
  }

  @Test
  void aPushTheBulkPlaneVerifiedIsInstalledWithoutHashingItAgain() throws Exception {
    List<DiskEndpoint.StagedFile> files = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      byte[] content = ("file " + i + "\n").repeat(100 * (i + 1)).getBytes(UTF_8);
      String path = "d/f" + i + ".txt";
      files.add(new DiskEndpoint.StagedFile(path, null, target(content, past), pushed(path, content, past, true)));
    }
    List<ApplyResult> r = side.installPushed(files, 0);
    assertThat(r).extracting(ApplyResult::outcome).containsOnly(ApplyResult.Outcome.OK);
    assertThat(side.stagedHashed.get()).as("copies hashed by the install").isZero();
    assertThat(copies.trustedCount()).isEqualTo(3);
    assertThat(copies.size()).as("each record used once").isZero();
    assertThat(root.resolve("d/f2.txt")).hasContent(("file 2\n").repeat(300));
    assertThat(Files.getLastModifiedTime(root.resolve("d/f1.txt")).toMillis()).isEqualTo(past);
    assertNoTempFiles();
    long hashed = side.filesHashed.get();
    assertThat(side.changes(0, true, List.of()).changes().get("d/f0.txt")).isEqualTo(r.get(0).result());
    assertThat(side.filesHashed.get()).as("what was installed is not hashed by the next scan").isEqualTo(hashed);
  }

  /**
   * A verified copy written again afterwards (same size: with its mtime put back, so that only
   * the ctime tells; with its mtime left; replaced by another file given the same mtime) is
   * hashed, found not to be the target and answered CHANGED, never installed.
   */
  @Test
  void aVerifiedCopyChangedSinceIsHashedAndAnsweredChanged() throws Exception {
    byte[] content = "the verified content".getBytes(UTF_8);
    byte[] other = "a rewrite, same size".getBytes(UTF_8);
    assertThat(other).hasSameSizeAs(content);
    String mtimeBack = pushed("back.txt", content, past, true);
    String mtimeLeft = pushed("left.txt", content, past, true);
    String replaced = pushed("replaced.txt", content, past, true);

    Files.write(partial(mtimeBack), other); // in place: same inode
    Files.setLastModifiedTime(partial(mtimeBack), FileTime.fromMillis(past));
    Files.write(partial(mtimeLeft), other);
    Path swap = Files.write(root.resolve("swap"), other);
    Files.setLastModifiedTime(swap, FileTime.fromMillis(past));
    Files.move(swap, partial(replaced), StandardCopyOption.REPLACE_EXISTING);

    List<ApplyResult> r = side.installPushed(List.of(
        new DiskEndpoint.StagedFile("back.txt", null, target(content, past), mtimeBack),
        new DiskEndpoint.StagedFile("left.txt", null, target(content, past), mtimeLeft),
        new DiskEndpoint.StagedFile("replaced.txt", null, target(content, past), replaced)), 0);
    assertThat(r).extracting(ApplyResult::outcome).containsOnly(ApplyResult.Outcome.CHANGED);
    assertThat(r).extracting(ApplyResult::message).allMatch(m -> m.endsWith("content changed while it was being sent"));
    assertThat(side.stagedHashed.get()).isEqualTo(3);
    assertThat(copies.trustedCount()).isZero();
    assertThat(root.resolve("back.txt")).doesNotExist();
    assertThat(root.resolve("left.txt")).doesNotExist();
    assertThat(root.resolve("replaced.txt")).doesNotExist();
    assertNoTempFiles();
  }

  /**
   * Hashed as before: a copy whose verified hash is not the target's (the workstation's file
   * changed after its scan: the copy is the newer content), a copy above the block size (its
   * hash fingerprints its blocks too), a copy nobody reported.
   */
  @Test
  void aCopyNotVerifiedAsTheTargetOrAboveTheBlockSizeIsHashed() throws Exception {
    byte[] scanned = "scanned".getBytes(UTF_8);
    byte[] sent = "changed".getBytes(UTF_8);
    byte[] big = new byte[5000];
    new java.util.Random(3).nextBytes(big);
    byte[] plain = "plain".getBytes(UTF_8);
    List<ApplyResult> r = side.installPushed(List.of(
        new DiskEndpoint.StagedFile("newer.txt", null, target(scanned, past), pushed("newer.txt", sent, past, true)),
        new DiskEndpoint.StagedFile("big.bin", null, target(big, past), pushed("big.bin", big, past, true)),
        new DiskEndpoint.StagedFile("plain.txt", null, target(plain, past), pushed("plain.txt", plain, past, false))),
        4096);
    assertThat(r).extracting(ApplyResult::outcome)
        .containsExactly(ApplyResult.Outcome.CHANGED, ApplyResult.Outcome.OK, ApplyResult.Outcome.OK);
    assertThat(side.stagedHashed.get()).isEqualTo(3);
    assertThat(copies.trustedCount()).isZero();
    assertThat(side.blocks("big.bin", 4096).blockHashes())
        .as("the large file's fingerprints kept from its hash").isEqualTo(ContentHash.blocksOf(root.resolve("big.bin"), 4096));
    assertThat(side.blockListsRead.get()).isZero();
    assertNoTempFiles();
  }

  @Test
  void nothingIsRecordedForACopyThatIsNotAsTheBulkPlaneDescribesIt() throws Exception {
    Path p = Files.write(root.resolve(".x.tlpart"), "four".getBytes(UTF_8));
    Files.setLastModifiedTime(p, FileTime.fromMillis(past));
    copies.verified(p, 5, past, sha256("four".getBytes(UTF_8)));
    copies.verified(p, 4, past + 1, sha256("four".getBytes(UTF_8)));
    copies.verified(root.resolve(".gone.tlpart"), 4, past, sha256("four".getBytes(UTF_8)));
    assertThat(copies.size()).isZero();
  }

  /** A workstation that pushes and never installs cannot grow the registry: the oldest records go first. */
  @Test
  void theRegistryKeepsOnlyItsCapacityOfTheNewestCopies() throws Exception {
    VerifiedCopies small = new VerifiedCopies(3);
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      Path p = Files.write(root.resolve(".f" + i + ".tlpart"), new byte[] {(byte) i});
      Files.setLastModifiedTime(p, FileTime.fromMillis(past));
      small.verified(p, 1, past, sha256(new byte[] {(byte) i}));
      files.add(p);
      assertThat(small.size()).isLessThanOrEqualTo(3);
    }
    assertThat(small.size()).isEqualTo(3);
    assertThat(small.take(files.get(0))).isNull();
    assertThat(small.take(files.get(996))).isNull();
    assertThat(small.take(files.get(999)).hash()).isEqualTo(ContentHash.of(new byte[] {(byte) 999}));
    assertThat(small.size()).isEqualTo(2);
  }

  /** A scan that sweeps the temporary files of an earlier run forgets their records with them. */
  @Test
  void aSweptCopyIsForgotten() throws Exception {
    pushed("never-installed.txt", "left behind".getBytes(UTF_8), past, true);
    assertThat(copies.size()).isEqualTo(1);
    side.sweepTempsAtNextScan();
    side.changes(0, true, List.of());
    assertThat(copies.size()).isZero();
    assertNoTempFiles();
  }
}
