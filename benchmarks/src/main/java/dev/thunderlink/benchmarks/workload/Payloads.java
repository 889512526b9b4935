package dev.thunderlink.benchmarks.workload;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Single-file payloads shared by the bulk benchmarks: incompressible, or text that compresses like source code. */
public final class Payloads {
  private Payloads() {}

  /** Writes {@code bytes} (rounded up to whole MiB) of seeded random bytes, or of source-like text. */
  public static void write(Path f, long bytes, boolean text) throws IOException {
    SplittableRandom r = new SplittableRandom(1);
    byte[] block = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(f)) {
      for (long done = 0; done < bytes; done += block.length) {
        if (text) {
          StringBuilder sb = new StringBuilder(block.length + 100);
          while (sb.length() < block.length) {
            sb.append("  return compute(").append(r.nextInt(1000)).append(", ctx.value").append(r.nextInt(50)).append(");\n");
          }
          System.arraycopy(sb.toString().getBytes(StandardCharsets.US_ASCII), 0, block, 0, block.length);
        } else {
          r.nextBytes(block);
        }
        out.write(block);
      }
    }
  }
}
