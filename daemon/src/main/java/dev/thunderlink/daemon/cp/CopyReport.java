package dev.thunderlink.daemon.cp;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.util.List;

/**
 * The summary {@code thunderlink cp --json} prints.
 *
 * @param direction "push" or "pull"
 * @param files files and symbolic links considered
 * @param copied files transferred and verified, and symbolic links created
 * @param skipped files (and links) already identical at the destination
 * @param failed files, links and directories that failed
 * @param directories directories of the copied trees created or already present (empty ones
 *     included)
 * @param bytes payload bytes transferred (resumed and skipped bytes excluded)
 * @param seconds wall-clock time of the whole copy
 * @param throughputMiBps bytes / seconds, in MiB/s
 * @param encrypted whether the bulk connection used TLS
 * @param digest the content hash files were verified with end to end ("XXH3-128" or "SHA-256")
 * @param attempts sessions used (more than one after a path failover)
 * @param daemon whether the workstation daemon ran the copy over its link (else the command did,
 *     over a link of its own)
 * @param entries one line per file
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CopyReport(
    String direction,
    long files,
    long copied,
    long skipped,
    long failed,
    long directories,
    long bytes,
    double seconds,
    @JsonProperty("throughput_mib_s") double throughputMiBps,
    boolean encrypted,
    String digest,
    int attempts,
    boolean daemon,
    List<Entry> entries) {

  /**
   * One file, symbolic link (mode "symlink") or failed directory. Written by {@link EntryJson}
   * as Jackson's bean serializer would (a test compares the two).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonSerialize(using = EntryJson.class)
  public record Entry(String source, String destination, long size, long sent, String mode, boolean skipped, String error) {}

  /**
   * Writes an {@link Entry} field by field. Jackson's bean serializer, run cold in a CLI, took
   * ~220 ms of CPU for the 20,000 entries of a tree (this: ~60 ms), after the copy, in the
   * command's wall time.
   */
  static final class EntryJson extends StdSerializer<Entry> {
    private static final long serialVersionUID = 1L;

    EntryJson() {
      super(Entry.class);
    }

    @Override
    public void serialize(Entry e, JsonGenerator g, SerializerProvider p) throws IOException {
      g.writeStartObject();
      if (e.source() != null) {
        g.writeStringField("source", e.source());
      }
      if (e.destination() != null) {
        g.writeStringField("destination", e.destination());
      }
      g.writeNumberField("size", e.size());
      g.writeNumberField("sent", e.sent());
      if (e.mode() != null) {
        g.writeStringField("mode", e.mode());
      }
      g.writeBooleanField("skipped", e.skipped());
      if (e.error() != null) {
        g.writeStringField("error", e.error());
      }
      g.writeEndObject();
    }
  }

  /** This report, as the workstation daemon's copy. */
  CopyReport ranByDaemon() {
    return new CopyReport(direction, files, copied, skipped, failed, directories, bytes, seconds, throughputMiBps, encrypted,
        digest, attempts, true, entries);
  }

  public boolean ok() {
    return failed == 0;
  }
}
