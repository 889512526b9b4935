package dev.thunderlink.sync;

import dev.thunderlink.proto.sync.ApplyAllRequest;
import dev.thunderlink.proto.sync.ApplyAllResponse;
import dev.thunderlink.proto.sync.ApplyRequest;
import dev.thunderlink.proto.sync.ApplyResponse;
import dev.thunderlink.proto.sync.BlockSignaturesRequest;
import dev.thunderlink.proto.sync.BlockSignaturesResponse;
import dev.thunderlink.proto.sync.ChangesBatch;
import dev.thunderlink.proto.sync.ChangesRequest;
import dev.thunderlink.proto.sync.CloseRequest;
import dev.thunderlink.proto.sync.CloseResponse;
import dev.thunderlink.proto.sync.InstallStagedRequest;
import dev.thunderlink.proto.sync.OpenRequest;
import dev.thunderlink.proto.sync.OpenResponse;
import dev.thunderlink.proto.sync.ReadChunk;
import dev.thunderlink.proto.sync.ReadFilesRequest;
import dev.thunderlink.proto.sync.ReadFilesResponse;
import dev.thunderlink.proto.sync.ReadRequest;
import dev.thunderlink.proto.sync.SyncEndpointGrpc;
import dev.thunderlink.proto.sync.WatchEvent;
import dev.thunderlink.proto.sync.WatchRequest;
import dev.thunderlink.proto.sync.WriteFilesRequest;
import dev.thunderlink.proto.sync.WriteFilesResponse;
import dev.thunderlink.proto.sync.WriteMessage;
import dev.thunderlink.sync.internal.HostEndpoints;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The host side of the mirror: a plain {@link io.grpc.BindableService} the host daemon
 * registers on its link server. Each session the workstation opens gets a scanner, index
 * (SQLite under {@code stateDir/<session>/}) and applier rooted at the requested path, with a
 * watcher that pushes change notifications to the workstation.
 *
 * <p>Threads: gRPC's executor runs the calls; endpoints are thread-safe. {@link #close()}
 * closes every open endpoint (call it after the server has shut down).
 */
public final class SyncHostService extends SyncEndpointGrpc.SyncEndpointImplBase implements AutoCloseable {
  private final HostEndpoints endpoints;
  private final dev.thunderlink.sync.internal.VerifiedCopies verifiedCopies =
      new dev.thunderlink.sync.internal.VerifiedCopies(dev.thunderlink.sync.internal.VerifiedCopies.DEFAULT_CAPACITY);
  private final java.util.List<Path> permittedRoots;

  /**
   * @param stateDir    where per-session index databases live
   * @param deviceName  this host's name, used in conflict copy names
   * @param watch       watch opened roots for changes (false only in tests that drive scans)
   * @param macosLatency FSEvents latency on macOS
   */
  public SyncHostService(Path stateDir, String deviceName, boolean watch, Duration macosLatency) {
    this(stateDir, deviceName, watch, macosLatency, java.util.List.of());
  }

  /**
   * As above, but a workstation may open session roots only under {@code permittedRoots}
   * (empty: anywhere), checked on the normalised path and, where it exists, on its real path,
   * so a symlink cannot lead a session out of them.
   */
  public SyncHostService(
      Path stateDir, String deviceName, boolean watch, Duration macosLatency, java.util.List<Path> permittedRoots) {
    this(stateDir, deviceName, watch, macosLatency, permittedRoots, () -> null);
  }

  /**
   * As above, with each session keyed by the calling workstation's device id as well as its
   * name, so two workstations that both name a session "app" get separate endpoints and
   * separate state ({@code stateDir/<device>/<session>/}).
   *
   * @param callerDevice the current call's peer device id (the host daemon passes the link's
   *     authenticated peer); null outside a link call
   */
  public SyncHostService(Path stateDir, String deviceName, boolean watch, Duration macosLatency,
      java.util.List<Path> permittedRoots, java.util.function.Supplier<String> callerDevice) {
    this.permittedRoots = permittedRoots.stream().map(r -> r.toAbsolutePath().normalize()).toList();
    this.endpoints = new HostEndpoints(stateDir, deviceName, watch, macosLatency, callerDevice, verifiedCopies);
    dev.thunderlink.sync.internal.StateStore.preload();
  }

  /**
   * The largest pushed copy whose verified hash is of use: InstallStaged hashes a copy larger
   * than its call's block size again anyway (for the block fingerprints), and a call's block
   * size is at most this. Wire the bulk plane's listener with it, so that it does not hash a
   * larger file twice.
   */
  public static final long LARGEST_TRUSTED_COPY = 1 << 22;

  /**
   * The bulk plane of this process received a staged push at {@code partial} and verified it:
   * {@code size} bytes whose SHA-256 (computed by the receiver over the bytes it wrote) is
   * {@code sha256}, mtime set to {@code mtimeMillis}. InstallStaged then installs that copy
   * without reading it back to hash it, if it is still as it was (see {@code VerifiedCopies}).
   * The host daemon wires its bulk server's staged-file listener here. Any thread; quick.
   */
  public void stagedCopyVerified(Path partial, long size, long mtimeMillis, byte[] sha256) {
    verifiedCopies.verified(partial, size, mtimeMillis, sha256);
  }

  /** How many pushed copies were installed on the bulk plane's verification, without hashing them again. */
  public long stagedCopiesTrusted() {
    return verifiedCopies.trustedCount();
  }

  @Override
  public void open(OpenRequest request, StreamObserver<OpenResponse> response) {
    String outside = outsideRoots(request.getRoot());
    if (outside != null) {
      response.onError(
          io.grpc.Status.PERMISSION_DENIED
              .withDescription(
                  "remote root " + request.getRoot() + " is outside the host's permitted roots " + permittedRoots
                      + " (" + outside + "); "
                      + (!outside.equals(NOT_UNDER) ? "give an absolute path on the host"
                          : "add it to bulk.permitted_roots in the host's config.toml"))
              .asRuntimeException());
      return;
    }
    endpoints.open(request, response);
  }

  @Override
  public void changes(ChangesRequest request, StreamObserver<ChangesBatch> response) {
    endpoints.changes(request, response);
  }

  @Override
  public void watch(WatchRequest request, StreamObserver<WatchEvent> response) {
    endpoints.watch(request, response);
  }

  @Override
  public void blockSignatures(BlockSignaturesRequest request, StreamObserver<BlockSignaturesResponse> response) {
    endpoints.blockSignatures(request, response);
  }

  @Override
  public void read(ReadRequest request, StreamObserver<ReadChunk> response) {
    endpoints.read(request, response);
  }

  @Override
  public StreamObserver<WriteMessage> write(StreamObserver<ApplyResponse> response) {
    return endpoints.write(response);
  }

  @Override
  public void apply(ApplyRequest request, StreamObserver<ApplyResponse> response) {
    endpoints.apply(request, response);
  }

  @Override
  public void applyAll(ApplyAllRequest request, StreamObserver<ApplyAllResponse> response) {
    endpoints.applyAll(request, response);
  }

  @Override
  public void writeFiles(WriteFilesRequest request, StreamObserver<WriteFilesResponse> response) {
    endpoints.writeFiles(request, response);
  }

  @Override
  public void installStaged(InstallStagedRequest request, StreamObserver<WriteFilesResponse> response) {
    endpoints.installStaged(request, response);
  }

  @Override
  public void readFiles(ReadFilesRequest request, StreamObserver<ReadFilesResponse> response) {
    endpoints.readFiles(request, response);
  }

  @Override
  public void close(CloseRequest request, StreamObserver<CloseResponse> response) {
    endpoints.close(request, response);
  }

  /** Closes every endpoint. */
  @Override
  public void close() {
    endpoints.closeAll();
  }

  /** Why {@link #outsideRoots} refuses a well-formed absolute path. */
  private static final String NOT_UNDER = "not under any of them";

  /** Null when {@code root} may be synced, else why not. */
  private String outsideRoots(String root) {
    if (permittedRoots.isEmpty()) {
      return null;
    }
    Path p;
    try {
      p = dev.thunderlink.sync.internal.PathNames.hostRoot(root);
    } catch (IllegalArgumentException e) { // InvalidPathException too
      return root.startsWith("~") ? "~USER is not supported: ~/PATH is the host user's home" : "not a path";
    }
    if (!p.isAbsolute()) {
      return "not an absolute path";
    }
    p = p.normalize();
    if (permittedRoots.stream().noneMatch(p::startsWith)) {
      return NOT_UNDER;
    }
    Path existing = p;
    while (existing != null && !java.nio.file.Files.exists(existing, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing != null) {
      try {
        Path real = existing.toRealPath();
        boolean inside = false;
        for (Path r : permittedRoots) {
          Path rr = java.nio.file.Files.exists(r) ? r.toRealPath() : r;
          inside |= real.startsWith(rr);
        }
        if (!inside) {
          return "a symlink leads it to " + real;
        }
      } catch (java.io.IOException e) {
        return "cannot resolve " + existing + ": " + e.getMessage();
      }
    }
    return null;
  }
}
