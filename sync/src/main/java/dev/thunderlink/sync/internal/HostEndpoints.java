package dev.thunderlink.sync.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
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
import dev.thunderlink.proto.sync.InlineFile;
import dev.thunderlink.proto.sync.FileContent;
import dev.thunderlink.proto.sync.InstallStagedRequest;
import dev.thunderlink.proto.sync.OpenRequest;
import dev.thunderlink.proto.sync.OpenResponse;
import dev.thunderlink.proto.sync.PathError;
import dev.thunderlink.proto.sync.ReadChunk;
import dev.thunderlink.proto.sync.ReadFilesRequest;
import dev.thunderlink.proto.sync.ReadFilesResponse;
import dev.thunderlink.proto.sync.ReadRequest;
import dev.thunderlink.proto.sync.StagedFile;
import dev.thunderlink.proto.sync.WatchEvent;
import dev.thunderlink.proto.sync.WatchRequest;
import dev.thunderlink.proto.sync.WriteFilesRequest;
import dev.thunderlink.proto.sync.WriteFilesResponse;
import dev.thunderlink.proto.sync.WriteMessage;
import dev.thunderlink.proto.sync.WriteStaged;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The host's open endpoints, one per workstation device and session name, and the gRPC call handling behind
 * {@code SyncHostService}. Errors become gRPC statuses with a one-line description:
 * NOT_FOUND for an unknown endpoint id, INVALID_ARGUMENT for a bad path or root,
 * FAILED_PRECONDITION when a file changed under a read, RESOURCE_EXHAUSTED when the host's
 * disk is full.
 *
 * <p>Threads: any gRPC executor thread; the map and the watcher sets are concurrent.
 */
public final class HostEndpoints {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HostEndpoints.class);
  private static final int BATCH = 1000;

  private final Path stateDir;
  private final String deviceName;
  private final boolean watch;
  private final Duration macosLatency;
  private final java.util.function.Supplier<String> caller;
  /** Pushed copies this process's bulk plane verified, trusted by every endpoint's installs. */
  private final VerifiedCopies verifiedCopies;
  /** Keyed by {@link #key}: the calling workstation's device id and the session name. */
  private final Map<String, DiskEndpoint> open = new ConcurrentHashMap<>();
  private final Map<String, Set<StreamObserver<WatchEvent>>> watchers = new ConcurrentHashMap<>();

  /**
   * @param caller the calling workstation's device id, read on the call's thread (null or
   *     empty outside an authenticated link call: tests, benchmarks)
   */
  public HostEndpoints(Path stateDir, String deviceName, boolean watch, Duration macosLatency,
      java.util.function.Supplier<String> caller) {
    this(stateDir, deviceName, watch, macosLatency, caller, new VerifiedCopies(VerifiedCopies.DEFAULT_CAPACITY));
  }

  /** @param verifiedCopies what the bulk plane in this process verified (see {@link VerifiedCopies}) */
  public HostEndpoints(Path stateDir, String deviceName, boolean watch, Duration macosLatency,
      java.util.function.Supplier<String> caller, VerifiedCopies verifiedCopies) {
    if (macosLatency == null || macosLatency.isNegative()) {
      throw new IllegalArgumentException("sync watcher latency: " + macosLatency + " (expected: >= 0)");
    }
    this.verifiedCopies = verifiedCopies;
    this.stateDir = stateDir;
    this.deviceName = deviceName;
    this.watch = watch;
    this.macosLatency = macosLatency;
    this.caller = caller;
  }

  private String callerDevice() {
    String d = caller.get();
    if (d == null) {
      return "";
    }
    if (!d.isEmpty() && !d.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      throw new IllegalArgumentException("caller device id: " + d + " (expected: 1-64 of [A-Za-z0-9._-])");
    }
    return d;
  }

  /**
   * Two workstations may each have a session of the same name: an endpoint belongs to the
   * pair (device, session), and one workstation can neither reach nor replace another's.
   */
  /** A session name, which names its state's directory here: no separators, no dots first. */
  private static String checkedSession(String session) {
    if (!session.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      throw new IllegalArgumentException("session: " + session + " (expected: 1-64 of [A-Za-z0-9._-])");
    }
    return session;
  }

  private Path sessionDir(String device, String session) {
    return device.isEmpty() ? stateDir.resolve(session) : stateDir.resolve(device).resolve(session);
  }

  private String key(String endpointId) {
    return callerDevice() + "/" + endpointId;
  }

  private DiskEndpoint endpoint(String id) {
    DiskEndpoint e = open.get(key(id));
    if (e == null) {
      throw Status.NOT_FOUND.withDescription("no open sync endpoint " + id).asRuntimeException();
    }
    return e;
  }

  private static void fail(StreamObserver<?> o, Throwable t) {
    if (t instanceof io.grpc.StatusRuntimeException) {
      o.onError(t);
    } else if (t instanceof Endpoint.DiskFullException) {
      o.onError(Status.RESOURCE_EXHAUSTED.withDescription(t.getMessage()).asRuntimeException());
    } else if (t instanceof Endpoint.ContentChangedException) {
      o.onError(Status.FAILED_PRECONDITION.withDescription(t.getMessage()).asRuntimeException());
    } else if (t instanceof IllegalArgumentException) {
      o.onError(Status.INVALID_ARGUMENT.withDescription(t.getMessage()).asRuntimeException());
    } else {
      o.onError(Status.INTERNAL.withDescription(String.valueOf(t.getMessage())).asRuntimeException());
    }
  }

  public void open(OpenRequest req, StreamObserver<OpenResponse> out) {
    try {
      String session = checkedSession(req.getSession());
      Path root = PathNames.hostRoot(req.getRoot());
      if (!root.isAbsolute()) {
        throw new IllegalArgumentException("remote root: " + req.getRoot() + " (expected: an absolute path)");
      }
      for (String p : req.getIgnorePatternsList()) {
        IgnoreRules.validatePattern(p);
      }
      String device = callerDevice();
      String key = device + "/" + session;
      DiskEndpoint e = open.get(key);
      if (e == null || !e.root().equals(root)) {
        if (e != null) {
          e.close();
        }
        DiskEndpoint.Options o = new DiskEndpoint.Options(deviceName, req.getIgnorePatternsList(),
            req.getUseGitignoreFiles(), req.getIgnoreVcs(), "keep".equals(req.getOutsideSymlinks()), watch,
            Duration.ofMillis(2), Duration.ofMillis(50), macosLatency);
        e = DiskEndpoint.open(root, sessionDir(device, session).resolve("index.db"), o, req.getCreateRoot());
        e.onChange(() -> notifyWatchers(key));
        e.trustVerifiedCopies(verifiedCopies);
        open.put(key, e);
      } else {
        e.sweepTempsAtNextScan();
      }
      Endpoint.Info info = e.info();
      out.onNext(OpenResponse.newBuilder().setEndpointId(session).setDeviceName(info.deviceName())
          .setCaseInsensitive(info.caseInsensitive()).setNormalizing(info.normalizing()).build());
      out.onCompleted();
    } catch (IOException | RuntimeException e) {
      fail(out, e instanceof IOException ? new IllegalArgumentException("remote root: " + req.getRoot() + " ("
          + e.getMessage() + ")") : e);
    }
  }

  private void notifyWatchers(String id) {
    Set<StreamObserver<WatchEvent>> set = watchers.get(id);
    if (set == null) {
      return;
    }
    for (StreamObserver<WatchEvent> o : set) {
      try {
        synchronized (o) {
          o.onNext(WatchEvent.newBuilder().setPendingPaths(1).build());
        }
      } catch (RuntimeException e) {
        set.remove(o);
      }
    }
  }

  public void watch(WatchRequest req, StreamObserver<WatchEvent> out) {
    try {
      endpoint(req.getEndpointId());
      Set<StreamObserver<WatchEvent>> set = watchers.computeIfAbsent(key(req.getEndpointId()),
          k -> ConcurrentHashMap.newKeySet());
      set.add(out);
      if (out instanceof ServerCallStreamObserver) {
        ((ServerCallStreamObserver<WatchEvent>) out).setOnCancelHandler(() -> set.remove(out));
      }
      if (watch) {
        // tells the workstation the stream is live: from now on every change arrives as an
        // event, so it may skip a changes call while none has come
        synchronized (out) {
          out.onNext(WatchEvent.newBuilder().setPendingPaths(0).build());
        }
      }
    } catch (RuntimeException e) {
      fail(out, e);
    }
  }

  public void changes(ChangesRequest req, StreamObserver<ChangesBatch> out) {
    try {
      for (String p : req.getRescanPathsList()) {
        PathNames.checkRelative(p);
      }
      Endpoint.Held held = req.hasHeldGeneration()
          ? new Endpoint.Held(req.getHeldGeneration(), req.getHeldSeqRangesList().stream().mapToLong(Long::longValue).toArray())
          : Endpoint.Held.NONE;
      Endpoint ep = endpoint(req.getEndpointId());
      Endpoint.ChangeSet cs = ep.changes(req.getSinceSeq(), req.getFullRescan(), req.getRescanPathsList(), held);
      ChangesBatch.Builder b = ChangesBatch.newBuilder();
      for (Map.Entry<String, Entry> c : cs.changes().entrySet()) {
        b.addEntries(ProtoCodec.toProto(c.getKey(), c.getValue()));
        if (b.getEntriesCount() >= BATCH) {
          out.onNext(b.build());
          b = ChangesBatch.newBuilder();
        }
      }
      b.setLast(true).setLastSeq(cs.lastSeq()).setRootMissing(cs.rootMissing()).setWatchProblem(cs.watchProblem())
          .addAllCollisions(cs.collisions())
          .setGeneration(cs.generation());
      for (Map.Entry<String, String> err : cs.errors().entrySet()) {
        b.addErrors(PathError.newBuilder().setPath(err.getKey()).setMessage(err.getValue()));
      }
      addInline(b, ep, cs, req.getInlineBytes());
      out.onNext(b.build());
      out.onCompleted();
    } catch (IOException | RuntimeException e) {
      fail(out, e);
    }
  }

  /** At most this many changes in an answer for it to carry files' content: an edit, not a first sync. */
  static final int INLINE_MAX_CHANGES = 64;
  /** The largest file whose content an answer carries. */
  static final int INLINE_MAX_FILE = 64 << 10;
  /** The most content an answer carries, whatever the workstation asks for. */
  static final int INLINE_MAX_ANSWER = 1 << 20;

  /**
   * The content of the answer's small files ({@code ChangesRequest.inline_bytes}), read now and
   * checked against the entries' hashes (a file changed since the scan is left out): the
   * workstation would ask for it right after. A read that fails only leaves the content out.
   */
  private static void addInline(ChangesBatch.Builder b, Endpoint ep, Endpoint.ChangeSet cs, int budget) {
    if (budget <= 0 || cs.changes().isEmpty() || cs.changes().size() > INLINE_MAX_CHANGES) {
      return;
    }
    budget = Math.min(budget, INLINE_MAX_ANSWER);
    List<String> paths = new ArrayList<>();
    List<String> hashes = new ArrayList<>();
    long bytes = 0;
    for (Map.Entry<String, Entry> c : cs.changes().entrySet()) {
      Entry e = c.getValue();
      if (e != null && e.isFile() && e.size() <= INLINE_MAX_FILE && bytes + e.size() <= budget) {
        paths.add(c.getKey());
        hashes.add(e.hash());
        bytes += e.size();
      }
    }
    if (paths.isEmpty()) {
      return;
    }
    try {
      List<byte[]> data = ep.readFiles(paths, hashes);
      for (int i = 0; i < paths.size(); i++) {
        if (data.get(i) != null) {
          b.addInline(InlineFile.newBuilder().setPath(paths.get(i)).setData(UnsafeByteOperations.unsafeWrap(data.get(i))));
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("changes: the files' content stays out of the answer: {}", e.toString());
    }
  }

  public void blockSignatures(BlockSignaturesRequest req, StreamObserver<BlockSignaturesResponse> out) {
    try {
      if (req.getBlockSize() < 4096 || req.getBlockSize() > (1 << 22)) {
        throw new IllegalArgumentException("block size: " + req.getBlockSize() + " (expected: in [4096, 4194304])");
      }
      Endpoint.BlockSignature s = endpoint(req.getEndpointId()).blocks(PathNames.checkRelative(req.getPath()),
          req.getBlockSize());
      BlockSignaturesResponse.Builder b = BlockSignaturesResponse.newBuilder().setSize(s.size());
      for (String h : s.blockHashes()) {
        b.addBlockHashes(ByteString.copyFrom(ContentHash.bytes(h)));
      }
      out.onNext(b.build());
      out.onCompleted();
    } catch (IOException | RuntimeException e) {
      fail(out, e);
    }
  }

  public void read(ReadRequest req, StreamObserver<ReadChunk> out) {
    try {
      if (req.getOffsetsCount() != req.getLengthsCount()) {
        throw new IllegalArgumentException("ranges: " + req.getOffsetsCount() + " offsets, " + req.getLengthsCount()
            + " lengths (expected: equal counts)");
      }
      List<long[]> ranges = new ArrayList<>();
      for (int i = 0; i < req.getOffsetsCount(); i++) {
        if (req.getOffsets(i) < 0 || req.getLengths(i) < 0 || req.getLengths(i) > (4 << 20)) {
          throw new IllegalArgumentException("range: " + req.getOffsets(i) + "+" + req.getLengths(i)
              + " (expected: offset >= 0, length in [0, 4 MiB])");
        }
        ranges.add(new long[] {req.getOffsets(i), req.getLengths(i)});
      }
      endpoint(req.getEndpointId()).read(PathNames.checkRelative(req.getPath()),
          ContentHash.hex(req.getExpectedHash().toByteArray()), ranges,
          (off, data) -> out.onNext(ReadChunk.newBuilder().setOffset(off).setData(UnsafeByteOperations.unsafeWrap(data)).build()));
      out.onCompleted();
    } catch (IOException | RuntimeException e) {
      fail(out, e);
    }
  }

  public StreamObserver<WriteMessage> write(StreamObserver<ApplyResponse> out) {
    return new StreamObserver<>() {
      private Endpoint.FileUpload upload;
      private boolean answered;

      @Override
      public void onNext(WriteMessage m) {
        if (answered) {
          return;
        }
        try {
          switch (m.getPartCase()) {
            case HEADER: {
              Entry expected = ProtoCodec.fromProto(m.getHeader().getExpected());
              Entry target = ProtoCodec.fromProto(m.getHeader().getTarget());
              if (target == null || !target.isFile()) {
                throw new IllegalArgumentException("write target: " + target + " (expected: a file)");
              }
              upload = endpoint(m.getHeader().getEndpointId()).beginWrite(
                  PathNames.checkRelative(m.getHeader().getTarget().getPath()), expected, target,
                  Math.max(4096, m.getHeader().getBlockSize()));
              break;
            }
            case LITERAL:
              requireUpload().write(m.getLiteral().getOffset(), m.getLiteral().getData().toByteArray());
              break;
            case BASIS: {
              long first = m.getBasis().getBlockIndex();
              long count = m.getBasis().getBlockCount() == 0 ? 1 : m.getBasis().getBlockCount();
              if (first < 0 || count < 0 || count > (1L << 40) || first > (1L << 40)) {
                throw new IllegalArgumentException("basis blocks: " + first + "+" + count
                    + " (expected: index and count in [0, 2^40])");
              }
              requireUpload().copyBasis(first, count);
              break;
            }
            case STAGED: {
              WriteStaged st = m.getStaged();
              if (st.getStagedOffset() < 0 || st.getOffset() < 0 || st.getLength() <= 0) {
                throw new IllegalArgumentException("staged bytes: " + st.getLength() + " from " + st.getStagedOffset()
                    + " to " + st.getOffset() + " (expected: offsets >= 0, length > 0)");
              }
              requireUpload().copyStaged(st.getName(), st.getStagedOffset(), st.getOffset(), st.getLength());
              break;
            }
            case COMMIT: {
              ApplyResult r = requireUpload().commit();
              answered = true;
              out.onNext(toProto(r));
              out.onCompleted();
              break;
            }
            default:
              throw new IllegalArgumentException("write message: empty (expected: header, literal, basis, staged or commit)");
          }
        } catch (IOException | RuntimeException e) {
          answered = true;
          closeUpload();
          fail(out, e);
        }
      }

      private Endpoint.FileUpload requireUpload() {
        if (upload == null) {
          throw new IllegalArgumentException("write: data before header (expected: header first)");
        }
        return upload;
      }

      private void closeUpload() {
        if (upload != null) {
          try {
            upload.close();
          } catch (IOException ignored) {
            // the temp file is swept at the next start
          }
        }
      }

      @Override
      public void onError(Throwable t) {
        closeUpload();
      }

      @Override
      public void onCompleted() {
        if (!answered) {
          closeUpload();
          answered = true;
          out.onError(Status.INVALID_ARGUMENT.withDescription("write ended without commit").asRuntimeException());
        }
      }
    };
  }

  static ApplyResponse toProto(ApplyResult r) {
    ApplyResponse.Outcome o = r.outcome() == ApplyResult.Outcome.OK ? ApplyResponse.Outcome.OK
        : r.outcome() == ApplyResult.Outcome.CHANGED ? ApplyResponse.Outcome.CHANGED : ApplyResponse.Outcome.FAILED;
    ApplyResponse.Builder b = ApplyResponse.newBuilder().setOutcome(o).setMessage(r.message()).setSeq(r.seq());
    if (r.result() != null) {
      b.setResult(ProtoCodec.toProto("", r.result()));
    }
    return b.build();
  }

  /** The operation a request describes, checked (IllegalArgumentException: a bad path or a missing target). */
  private static Endpoint.Op op(ApplyRequest req) {
    String path = PathNames.checkRelative(req.getExpected().getPath());
    Endpoint.OpKind kind = Endpoint.OpKind.valueOf(req.getOp().name());
    Entry target = ProtoCodec.fromProto(req.getTarget());
    if ((kind == Endpoint.OpKind.SYMLINK || kind == Endpoint.OpKind.SET_ATTRIBUTES) && target == null) {
      throw new IllegalArgumentException("target: absent (expected: an entry for " + kind + ")");
    }
    String to = kind == Endpoint.OpKind.RENAME ? PathNames.checkRelative(req.getToPath()) : null;
    return new Endpoint.Op(kind, path, ProtoCodec.fromProto(req.getExpected()), target, to,
        kind == Endpoint.OpKind.RENAME ? ProtoCodec.fromProto(req.getExpectedTo()) : null);
  }

  public void apply(ApplyRequest req, StreamObserver<ApplyResponse> out) {
    try {
      Endpoint.Op op = op(req);
      out.onNext(toProto(endpoint(req.getEndpointId()).apply(op)));
      out.onCompleted();
    } catch (IOException | RuntimeException e) {
      fail(out, e);
    }
  }

  public void applyAll(ApplyAllRequest req, StreamObserver<ApplyAllResponse> out) {
    try {
      if (req.getOpsCount() > Endpoint.OPS_PER_CALL) {
        throw new IllegalArgumentException("apply all: " + req.getOpsCount() + " ops (expected: at most "
            + Endpoint.OPS_PER_CALL + ")");
      }
      List<Endpoint.Op> ops = new ArrayList<>(req.getOpsCount());
      for (ApplyRequest r : req.getOpsList()) {
        ops.add(op(r));
      }
      ApplyAllResponse.Builder b = ApplyAllResponse.newBuilder();
      for (ApplyResult r : endpoint(req.getEndpointId()).applyAll(ops)) {
        b.addResults(toProto(r));
      }
      out.onNext(b.build());
      out.onCompleted();
    } catch (IOException | RuntimeException e) {
      fail(out, e);
    }
  }

  /** Most files one WriteFiles or ReadFiles call may carry. */
  static final int FILES_PER_CALL = 4096;

  public void writeFiles(WriteFilesRequest req, StreamObserver<WriteFilesResponse> out) {
    try {
      int blockSize = checkFileCall("write files", req.getFilesCount(), req.getBlockSize());
      List<Endpoint.WholeFile> files = new ArrayList<>(req.getFilesCount());
      for (dev.thunderlink.proto.sync.WholeFile f : req.getFilesList()) {
        files.add(new Endpoint.WholeFile(PathNames.checkRelative(f.getTarget().getPath()),
            ProtoCodec.fromProto(f.getExpected()), fileTarget(f.getTarget()), f.getData().toByteArray()));
      }
      answer(out, endpoint(req.getEndpointId()).writeFiles(files, blockSize));
    } catch (IOException | RuntimeException e) {
      fail(out, e);
    }
  }

  public void installStaged(InstallStagedRequest req, StreamObserver<WriteFilesResponse> out) {
    try {
      int blockSize = checkFileCall("install staged", req.getFilesCount(), req.getBlockSize());
      List<DiskEndpoint.StagedFile> files = new ArrayList<>(req.getFilesCount());
      for (StagedFile f : req.getFilesList()) {
        files.add(new DiskEndpoint.StagedFile(PathNames.checkRelative(f.getTarget().getPath()),
            ProtoCodec.fromProto(f.getExpected()), fileTarget(f.getTarget()), f.getStagedPath()));
      }
      answer(out, endpoint(req.getEndpointId()).installPushed(files, blockSize));
    } catch (IOException | RuntimeException e) {
      fail(out, e);
    }
  }

  /** Checks a many-files call's size and block size; returns the block size. */
  private static int checkFileCall(String call, int files, int blockSize) {
    if (files > FILES_PER_CALL) {
      throw new IllegalArgumentException(call + ": " + files + " files (expected: at most " + FILES_PER_CALL + ")");
    }
    if (blockSize != 0 && (blockSize < 4096 || blockSize > (1 << 22))) {
      throw new IllegalArgumentException("block size: " + blockSize + " (expected: 0 or in [4096, 4194304])");
    }
    return blockSize;
  }

  private static Entry fileTarget(dev.thunderlink.proto.sync.Entry e) {
    Entry target = ProtoCodec.fromProto(e);
    if (target == null || !target.isFile()) {
      throw new IllegalArgumentException("write target: " + target + " (expected: a file)");
    }
    return target;
  }

  private static void answer(StreamObserver<WriteFilesResponse> out, List<ApplyResult> results) {
    WriteFilesResponse.Builder b = WriteFilesResponse.newBuilder();
    for (ApplyResult r : results) {
      b.addResults(toProto(r));
    }
    out.onNext(b.build());
    out.onCompleted();
  }

  public void readFiles(ReadFilesRequest req, StreamObserver<ReadFilesResponse> out) {
    try {
      if (req.getPathsCount() != req.getExpectedHashesCount() || req.getPathsCount() > FILES_PER_CALL) {
        throw new IllegalArgumentException("read files: " + req.getPathsCount() + " paths, "
            + req.getExpectedHashesCount() + " hashes (expected: one hash per path, at most " + FILES_PER_CALL + ")");
      }
      List<String> paths = new ArrayList<>(req.getPathsCount());
      List<String> hashes = new ArrayList<>(req.getPathsCount());
      for (int i = 0; i < req.getPathsCount(); i++) {
        paths.add(PathNames.checkRelative(req.getPaths(i)));
        hashes.add(ContentHash.hex(req.getExpectedHashes(i).toByteArray()));
      }
      ReadFilesResponse.Builder b = ReadFilesResponse.newBuilder();
      for (byte[] data : endpoint(req.getEndpointId()).readFiles(paths, hashes)) {
        b.addFiles(data == null ? FileContent.newBuilder().setChanged(true)
            : FileContent.newBuilder().setData(UnsafeByteOperations.unsafeWrap(data))); // a fresh array, never written again
      }
      out.onNext(b.build());
      out.onCompleted();
    } catch (IOException | RuntimeException e) {
      fail(out, e);
    }
  }

  public void close(CloseRequest req, StreamObserver<CloseResponse> out) {
    String key;
    try {
      key = key(req.getEndpointId());
    } catch (RuntimeException e) {
      fail(out, e);
      return;
    }
    try {
      closeKey(key);
      if (req.getForget()) { // sync terminate: the session's index goes with it
        StateStore.deleteDir(sessionDir(callerDevice(), checkedSession(req.getEndpointId())));
      }
      out.onNext(CloseResponse.getDefaultInstance());
      out.onCompleted();
    } catch (IOException | RuntimeException ex) {
      fail(out, ex);
    }
  }

  private void closeKey(String key) throws IOException {
    DiskEndpoint e = open.remove(key);
    Set<StreamObserver<WatchEvent>> set = watchers.remove(key);
    if (set != null) {
      for (StreamObserver<WatchEvent> o : set) {
        try {
          o.onCompleted();
        } catch (RuntimeException ignored) {
          // already cancelled
        }
      }
    }
    if (e != null) {
      e.close();
    }
  }

  public void closeAll() {
    for (String key : new ArrayList<>(open.keySet())) {
      try {
        closeKey(key);
      } catch (IOException ignored) {
        // closing down: its index rows were written by the last changes call or are re-hashed
      }
    }
  }
}
