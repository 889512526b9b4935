package dev.thunderlink.daemon.cp;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
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
    List<Entry> entries) {

  /** One file, symbolic link (mode "symlink") or failed directory. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Entry(String source, String destination, long size, long sent, String mode, boolean skipped, String error) {}

  public boolean ok() {
    return failed == 0;
  }
}
