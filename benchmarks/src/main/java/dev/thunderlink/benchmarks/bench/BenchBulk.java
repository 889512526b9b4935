package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.benchmarks.bulk.ForcedMode;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkConfig;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLException;

/**
 * The bulk plane over one path, as suites use it: real {@link BulkClient}s (the client {@code
 * thunderlink cp} uses) to the host over exactly this path, and the host directory the bench may
 * write into.
 *
 * @param opener makes a client with the workstation's identity and pins, sending with a config and
 *     connecting to a path
 * @param path the path's address and kind
 * @param remoteDir where on the host the bench writes, as a {@code cp} destination ({@code
 *     tb/bulk}: relative to the host's first permitted root, or absolute inside one); files there
 *     are overwritten run after run
 */
public record BenchBulk(Opener opener, LinkPath path, String remoteDir) {

  /** Makes a bulk client; each is cheap (no connection until a session opens). */
  @FunctionalInterface
  public interface Opener {
    BulkClient open(BulkConfig config, LinkPath path) throws SSLException;
  }

  public BenchBulk {
    Objects.requireNonNull(opener, "opener");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(remoteDir, "remoteDir");
    remoteDir = remoteDir.endsWith("/") ? remoteDir.substring(0, remoteDir.length() - 1) : remoteDir;
  }

  /** The sender's defaults: it picks each file's mode itself. */
  static BulkConfig defaults() {
    return BulkConfig.defaults(List.of());
  }

  /** A client that picks modes as {@code thunderlink cp} does. */
  public BulkClient client() throws SSLException {
    return opener.open(defaults(), path);
  }

  /** A client that sends every file in {@code mode} ({@link ForcedMode} says how). */
  public BulkClient client(ForcedMode mode) throws SSLException {
    return opener.open(mode.senderConfig(defaults()),
        new LinkPath(path.name(), path.address(), mode.declaredKind(path.kind())));
  }

  /** {@code remoteDir/name}. */
  public String remote(String name) {
    return remoteDir.isEmpty() ? name : remoteDir + "/" + name;
  }
}
