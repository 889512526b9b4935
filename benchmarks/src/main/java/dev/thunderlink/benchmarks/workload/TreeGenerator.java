package dev.thunderlink.benchmarks.workload;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Builds the reproducible workloads every benchmark and the peer comparison share: source-like
 * trees of compressible text ({@link #generate}) and incompressible random files ({@link
 * #writeRandomFile}). Everything derives from a seed, so two machines given the same spec write
 * byte-identical data.
 *
 * <p>Tree layout: {@code mNN/pNNN/fNNNNN.ext}: leaf directories of {@code filesPerDirectory}
 * files, twenty leaves to a module directory. Content is lines of identifiers, keywords and
 * punctuation drawn with a skew towards common tokens, indented like code: it compresses roughly
 * as source code does (about 3-5x with LZ4 or deflate), unlike random bytes.
 *
 * <p>Threads: stateless; each call runs on the caller's thread.
 */
public final class TreeGenerator {

  private static final String[] EXTENSIONS = {"java", "ts", "py", "md", "go", "rs", "json", "txt"};

  private static final String[] TOKENS = (
      "the if else return for while int long String final public private static void new "
          + "class import package this null true false value result index count buffer path file "
          + "name size offset length config request response context channel stream error "
          + "= == != + - * / ( ) { } [ ] ; , . < > && || -> :: // # \" ' 0 1 2 16 64 1024 "
          + "get set add remove put close open read write flush sync link peer host model token "
          + "await handle apply build start stop check update merge parse format hash bytes")
      .split(" ");

  private TreeGenerator() {}

  /**
   * Writes the tree of {@code spec} below {@code root}, which must not exist or be an empty
   * directory (so a stale tree is never silently mixed in).
   *
   * @throws IllegalArgumentException if {@code root} is a non-empty directory or a file
   */
  public static TreeSummary generate(TreeSpec spec, Path root) throws IOException {
    if (Files.exists(root)) {
      if (!Files.isDirectory(root)) {
        throw new IllegalArgumentException(
            "root: " + root + " (expected: a directory or a path that does not exist)");
      }
      try (Stream<Path> entries = Files.list(root)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException("root: " + root + " (expected: an empty directory)");
        }
      }
    }
    Files.createDirectories(root);
    SplittableRandom sizes = new SplittableRandom(spec.seed());
    long directories = 0;
    long bytes = 0;
    Path dir = null;
    for (int i = 0; i < spec.files(); i++) {
      if (i % spec.filesPerDirectory() == 0) {
        int leaf = i / spec.filesPerDirectory();
        dir = root.resolve(String.format(Locale.ROOT, "m%02d/p%03d", leaf / 20, leaf));
        if (leaf % 20 == 0) {
          directories++;
        }
        Files.createDirectories(dir);
        directories++;
      }
      int size = spec.minFileBytes() == spec.maxFileBytes()
          ? spec.minFileBytes()
          : sizes.nextInt(spec.minFileBytes(), spec.maxFileBytes() + 1);
      String ext = EXTENSIONS[i % EXTENSIONS.length];
      Path file = dir.resolve(String.format(Locale.ROOT, "f%05d.%s", i, ext));
      Files.write(file, text(size, new SplittableRandom(spec.seed() * 31 + i)));
      bytes += size;
    }
    return new TreeSummary(spec.files(), directories, bytes);
  }

  /**
   * Writes {@code size} bytes of seeded pseudo-random (incompressible) data to {@code file},
   * replacing it.
   */
  public static void writeRandomFile(Path file, long size, long seed) throws IOException {
    if (size < 0) {
      throw new IllegalArgumentException("size: " + size + " (expected: >= 0)");
    }
    SplittableRandom random = new SplittableRandom(seed);
    ByteBuffer block = ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      long left = size;
      while (left > 0) {
        block.clear();
        while (block.remaining() >= Long.BYTES) {
          block.putLong(random.nextLong());
        }
        block.flip();
        block.limit((int) Math.min(block.limit(), left));
        while (block.hasRemaining()) {
          left -= out.write(block);
        }
      }
    }
  }

  /** Text-like content of exactly {@code size} bytes. */
  static byte[] text(int size, SplittableRandom random) {
    StringBuilder sb = new StringBuilder(size + 128);
    while (sb.length() < size) {
      int indent = random.nextInt(0, 4) * 2;
      sb.append(" ".repeat(indent));
      int words = random.nextInt(1, 12);
      for (int w = 0; w < words; w++) {
        // Squaring a uniform draw skews towards the front of the table, like real token counts.
        double u = random.nextDouble();
        String token = TOKENS[(int) (u * u * TOKENS.length)];
        if (random.nextInt(8) == 0) {
          token = token + random.nextInt(100);
        }
        sb.append(token).append(' ');
      }
      sb.setCharAt(sb.length() - 1, '\n');
    }
    sb.setLength(size);
    return sb.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Command line for scripts, so they make the same workloads as the benchmarks:
   *
   * <pre>
   *   tree DIR [--files N] [--min BYTES] [--max BYTES] [--per-dir N] [--seed S]
   *   random FILE --size BYTES [--seed S]
   * </pre>
   *
   * Prints one summary line; bad input prints a one-line error and exits 2.
   */
  public static void main(String[] args) {
    try {
      System.out.println(run(args));
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    } catch (IOException e) {
      System.err.println("error: " + e);
      System.exit(1);
    }
  }

  static String run(String[] args) throws IOException {
    if (args.length < 2 || !(args[0].equals("tree") || args[0].equals("random"))) {
      throw new IllegalArgumentException("usage: tree DIR [--files N] [--min B] [--max B]"
          + " [--per-dir N] [--seed S] | random FILE --size BYTES [--seed S]");
    }
    Path target = Path.of(args[1]);
    TreeSpec defaults = TreeSpec.sourceTree(20_000);
    long files = defaults.files();
    long min = defaults.minFileBytes();
    long max = defaults.maxFileBytes();
    long perDir = defaults.filesPerDirectory();
    long seed = defaults.seed();
    long size = -1;
    for (int i = 2; i < args.length; i += 2) {
      String option = args[i];
      if (!java.util.List.of("--files", "--min", "--max", "--per-dir", "--seed", "--size")
          .contains(option)) {
        throw new IllegalArgumentException("option: " + option
            + " (expected: --files, --min, --max, --per-dir, --seed or --size)");
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(option + ": missing value");
      }
      long value = parseSize(option, args[i + 1]);
      switch (option) {
        case "--files" -> files = value;
        case "--min" -> min = value;
        case "--max" -> max = value;
        case "--per-dir" -> perDir = value;
        case "--seed" -> seed = value;
        case "--size" -> size = value;
        default -> throw new AssertionError(option);
      }
    }
    if (args[0].equals("random")) {
      if (size < 0) {
        throw new IllegalArgumentException("--size: missing (expected: a size such as 1g)");
      }
      writeRandomFile(target, size, seed);
      return "random " + target + " " + size + " bytes seed " + seed;
    }
    TreeSpec spec = new TreeSpec(toInt("--files", files), toInt("--min", min),
        toInt("--max", max), toInt("--per-dir", perDir), seed);
    TreeSummary summary = generate(spec, target);
    return "tree " + target + " " + summary.files() + " files " + summary.directories()
        + " directories " + summary.bytes() + " bytes seed " + seed;
  }

  private static long parseSize(String option, String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    long multiplier = 1;
    if (s.endsWith("k")) {
      multiplier = 1L << 10;
    } else if (s.endsWith("m")) {
      multiplier = 1L << 20;
    } else if (s.endsWith("g")) {
      multiplier = 1L << 30;
    }
    if (multiplier != 1) {
      s = s.substring(0, s.length() - 1);
    }
    try {
      long value = Long.parseLong(s);
      if (value < 0) {
        throw new NumberFormatException();
      }
      return Math.multiplyExact(value, multiplier);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(
          option + ": '" + text + "' (expected: a whole number >= 0, optionally with k, m or g)");
    }
  }

  private static int toInt(String option, long value) {
    if (value > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(option + ": " + value + " (expected: <= 2147483647)");
    }
    return (int) value;
  }
}
