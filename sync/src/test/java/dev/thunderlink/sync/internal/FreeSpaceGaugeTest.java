package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The free-space check's figure: asked now and then, counted down meanwhile, never refusing on a guess. */
class FreeSpaceGaugeTest {
  private final AtomicLong clock = new AtomicLong();
  private final AtomicLong diskFree = new AtomicLong(1_000_000);
  private final FreeSpaceGauge gauge = new FreeSpaceGauge(dir -> diskFree.get(), clock::get);
  private final Path dir = Path.of("/data/tree");

  @Test
  void manySmallWritesInOneDirectoryAskTheFileSystemOnce() {
    for (int i = 0; i < 500; i++) {
      assertThat(gauge.reserve(dir, 1000)).isEqualTo(1_000_000 - 1000L * i);
    }
    assertThat(gauge.queries.get()).isEqualTo(1);
  }

  @Test
  void theFigureIsAskedAgainAfterASecondOrAfterManyBytes() {
    gauge.reserve(dir, 10);
    clock.addAndGet(FreeSpaceGauge.MAX_AGE_NANOS + 1);
    diskFree.set(500);
    assertThat(gauge.reserve(dir, 10)).isEqualTo(500);
    assertThat(gauge.queries.get()).isEqualTo(2);

    diskFree.set(Long.MAX_VALUE / 2);
    gauge.reserve(dir, FreeSpaceGauge.MAX_WRITTEN_BYTES + 1);
    gauge.reserve(dir, 1);
    assertThat(gauge.queries.get()).as("refreshed once the reserved bytes passed the limit").isEqualTo(4);
  }

  @Test
  void aWriteThatDoesNotFitTheEstimateIsRefusedOnlyOnAFreshFigure() {
    gauge.reserve(dir, 900_000); // estimate now 100,000
    diskFree.set(2_000_000); // someone freed space meanwhile
    assertThat(gauge.reserve(dir, 200_000)).as("asked again instead of refusing").isEqualTo(2_000_000);
    diskFree.set(50_000);
    clock.addAndGet(FreeSpaceGauge.MAX_AGE_NANOS + 1);
    assertThat(gauge.reserve(dir, 60_000)).as("a refusal is the disk's own figure").isEqualTo(50_000);
    assertThat(gauge.reserve(dir, 60_000)).isEqualTo(50_000);
    assertThat(gauge.queries.get()).isEqualTo(4);
  }

  @Test
  void anUnknownFigureNeverRefuses() {
    FreeSpaceGauge unknown = new FreeSpaceGauge(d -> -1, clock::get);
    assertThat(unknown.reserve(dir, Long.MAX_VALUE)).isEqualTo(-1);
  }

  /** The real query: the directory's own file system; a directory that is not there is unknown, never "full". */
  @Test
  void theRealFigureIsTheDirectorysFileSystemsAndAMissingDirectoryIsUnknown(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    long store = java.nio.file.Files.getFileStore(tmp).getUsableSpace();
    long free = FreeSpaceGauge.usableSpace(tmp);
    assertThat(free).isPositive().isCloseTo(store, org.assertj.core.data.Percentage.withPercentage(5));
    assertThat(FreeSpaceGauge.usableSpace(tmp.resolve("gone"))).isEqualTo(-1);
    try (java.nio.file.FileSystem jimfs = com.google.common.jimfs.Jimfs.newFileSystem()) {
      assertThat(FreeSpaceGauge.usableSpace(jimfs.getPath("/"))).isPositive();
      assertThat(FreeSpaceGauge.freeInodes(jimfs.getPath("/"))).as("unknown there").isEqualTo(-1);
    }
    assertThat(FreeSpaceGauge.freeInodes(tmp.resolve("gone"))).isEqualTo(-1);
    if (ExclusiveRename.linux64(tmp)) { // this machine's file systems count inodes
      long before = FreeSpaceGauge.freeInodes(tmp);
      assertThat(before).isPositive();
      java.nio.file.Files.createDirectories(tmp.resolve("one/two/three"));
      assertThat(FreeSpaceGauge.freeInodes(tmp)).as("three inodes taken, give or take others' files")
          .isBetween(before - 1000, before - 1);
    }
  }
}
