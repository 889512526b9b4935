package dev.thunderlink.sync;

import dev.thunderlink.proto.sync.ApplyRequest;
import dev.thunderlink.proto.sync.ApplyResponse;
import dev.thunderlink.proto.sync.BlockSignaturesRequest;
import dev.thunderlink.proto.sync.BlockSignaturesResponse;
import dev.thunderlink.proto.sync.ChangesBatch;
import dev.thunderlink.proto.sync.ChangesRequest;
import dev.thunderlink.proto.sync.CloseRequest;
import dev.thunderlink.proto.sync.CloseResponse;
import dev.thunderlink.proto.sync.OpenRequest;
import dev.thunderlink.proto.sync.OpenResponse;
import dev.thunderlink.proto.sync.ReadChunk;
import dev.thunderlink.proto.sync.ReadRequest;
import dev.thunderlink.proto.sync.SyncEndpointGrpc;
import dev.thunderlink.proto.sync.WatchEvent;
import dev.thunderlink.proto.sync.WatchRequest;
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

  /**
   * @param stateDir    where per-session index databases live
   * @param deviceName  this host's name, used in conflict copy names
   * @param watch       watch opened roots for changes (false only in tests that drive scans)
   * @param macosLatency FSEvents latency on macOS
   */
  public SyncHostService(Path stateDir, String deviceName, boolean watch, Duration macosLatency) {
    this.endpoints = new HostEndpoints(stateDir, deviceName, watch, macosLatency);
  }

  @Override
  public void open(OpenRequest request, StreamObserver<OpenResponse> response) {
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
  public void close(CloseRequest request, StreamObserver<CloseResponse> response) {
    endpoints.close(request, response);
  }

  /** Closes every endpoint. */
  @Override
  public void close() {
    endpoints.closeAll();
  }
}
