package dev.thunderlink.benchmarks.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TreeGeneratorTest {

  @TempDir Path tmp;

  @Test
  void sameSpecGivesByteIdenticalTrees() throws Exception {
    TreeSpec spec = new TreeSpec(300, 1024, 16 * 1024, 50, 7);
    TreeSummary a = TreeGenerator.generate(spec, tmp.resolve("a"));
    TreeSummary b = TreeGenerator.generate(spec, tmp.resolve("b"));
    assertThat(a).isEqualTo(b);
    assertThat(a.files()).isEqualTo(300);
    assertThat(digest(tmp.resolve("a"))).isEqualTo(digest(tmp.resolve("b")));
    TreeGenerator.generate(new TreeSpec(300, 1024, 16 * 1024, 50, 8), tmp.resolve("c"));
    assertThat(digest(tmp.resolve("c"))).isNotEqualTo(digest(tmp.resolve("a")));
  }

  @Test
  void filesHaveTheSpecifiedSizesAndLayout() throws Exception {
    TreeSpec spec = new TreeSpec(120, 1024, 2048, 50, 1);
    TreeSummary summary = TreeGenerator.generate(spec, tmp.resolve("t"));
    List<Path> files = files(tmp.resolve("t"));
    assertThat(files).hasSize(120);
    long total = 0;
    for (Path f : files) {
      long size = Files.size(f);
      assertThat(size).isBetween(1024L, 2048L);
      total += size;
    }
    assertThat(summary.bytes()).isEqualTo(total);
    assertThat(tmp.resolve("t/m00/p000/f00000.java")).isRegularFile();
    assertThat(tmp.resolve("t/m00/p002/f00100.go")).isRegularFile();
    assertThat(summary.directories()).isEqualTo(1 + 3);
  }

  @Test
  void contentIsTextAndCompressesLikeSourceCode() throws Exception {
    TreeGenerator.generate(new TreeSpec(20, 16 * 1024, 16 * 1024, 50, 3), tmp.resolve("t"));
    byte[] data = Files.readAllBytes(tmp.resolve("t/m00/p000/f00005.rs"));
    for (byte b : data) {
      assertThat(b == '\n' || (b >= 0x20 && b < 0x7f)).isTrue();
    }
    double ratio = deflatedSize(data) / (double) data.length;
    assertThat(ratio).as("deflate ratio").isBetween(0.15, 0.5);
  }

  @Test
  void randomFileIsReproducibleAndIncompressible() throws Exception {
    Path a = tmp.resolve("a.bin");
    Path b = tmp.resolve("b.bin");
    TreeGenerator.writeRandomFile(a, 3 * 1024 * 1024 + 5, 42);
    TreeGenerator.writeRandomFile(b, 3 * 1024 * 1024 + 5, 42);
    assertThat(Files.size(a)).isEqualTo(3 * 1024 * 1024 + 5);
    assertThat(Files.mismatch(a, b)).isEqualTo(-1);
    byte[] head = new byte[1 << 20];
    System.arraycopy(Files.readAllBytes(a), 0, head, 0, head.length);
    assertThat(deflatedSize(head) / (double) head.length).isGreaterThan(0.99);
  }

  @Test
  void refusesANonEmptyRoot() throws Exception {
    Files.writeString(tmp.resolve("stale.txt"), "old");
    assertThatThrownBy(() -> TreeGenerator.generate(TreeSpec.sourceTree(10), tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("root: " + tmp + " (expected: an empty directory)");
    assertThat(files(tmp)).hasSize(1);
  }

  @Test
  void commandLineWritesTheSameTreeAsTheApi() throws Exception {
    String line = TreeGenerator.run(new String[] {
        "tree", tmp.resolve("cli").toString(), "--files", "60", "--min", "1k", "--max", "2k",
        "--seed", "9"});
    assertThat(line).startsWith("tree " + tmp.resolve("cli") + " 60 files");
    TreeGenerator.generate(new TreeSpec(60, 1024, 2048, 50, 9), tmp.resolve("api"));
    assertThat(digest(tmp.resolve("cli"))).isEqualTo(digest(tmp.resolve("api")));
    String random = TreeGenerator.run(new String[] {
        "random", tmp.resolve("r.bin").toString(), "--size", "1m"});
    assertThat(random).contains("1048576 bytes");
    assertThat(Files.size(tmp.resolve("r.bin"))).isEqualTo(1 << 20);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "tree            | usage: tree DIR",
      "tree,X,--files  | --files: missing value",
      "tree,X,--files,many | --files: 'many' (expected: a whole number >= 0, optionally with k, m or g)",
      "tree,X,--files,0    | files: 0 (expected: >= 1)",
      "tree,X,--min,2k,--max,1k | maxFileBytes: 1024 (expected: >= minFileBytes 2048)",
      "tree,X,--colour,red | option: --colour (expected: --files, --min, --max, --per-dir, --seed or --size)",
      "random,X        | --size: missing (expected: a size such as 1g)",
  })
  void badCommandLinesGetOneLineErrors(String args, String message) {
    String[] argv = args.split(",");
    for (int i = 0; i < argv.length; i++) {
      argv[i] = argv[i].equals("X") ? tmp.resolve("x").toString() : argv[i];
    }
    assertThatThrownBy(() -> TreeGenerator.run(argv))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message)
        .hasMessageNotContaining("\n");
    assertThat(tmp.resolve("x")).doesNotExist();
  }

  private static List<Path> files(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }

  private static String digest(Path root) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    for (Path f : files(root)) {
      md.update(root.relativize(f).toString().getBytes());
      md.update(Files.readAllBytes(f));
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static int deflatedSize(byte[] data) {
    Deflater d = new Deflater(Deflater.BEST_SPEED);
    d.setInput(data);
    d.finish();
    byte[] out = new byte[data.length + 1024];
    int n = 0;
    while (!d.finished()) {
      n += d.deflate(out, n, out.length - n);
    }
    d.end();
    return n;
  }
}
