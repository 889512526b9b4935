package dev.thunderlink.sync.internal;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.sync.ApplyAllRequest;
import dev.thunderlink.proto.sync.ApplyAllResponse;
import dev.thunderlink.proto.sync.ApplyRequest;
import dev.thunderlink.proto.sync.ApplyResponse;
import dev.thunderlink.proto.sync.BlockSignaturesRequest;
import dev.thunderlink.proto.sync.BlockSignaturesResponse;
import dev.thunderlink.proto.sync.ChangesBatch;
import dev.thunderlink.proto.sync.ChangesRequest;
import dev.thunderlink.proto.sync.CloseRequest;
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
import dev.thunderlink.proto.sync.SyncEndpointGrpc;
import dev.thunderlink.proto.sync.WatchEvent;
import dev.thunderlink.proto.sync.WatchRequest;
import dev.thunderlink.proto.sync.WriteBasis;
import dev.thunderlink.proto.sync.WriteCommit;
import dev.thunderlink.proto.sync.WriteFilesRequest;
import dev.thunderlink.proto.sync.WriteFilesResponse;
import dev.thunderlink.proto.sync.WriteHeader;
import dev.thunderlink.proto.sync.WriteLiteral;
import dev.thunderlink.proto.sync.WriteMessage;
import dev.thunderlink.proto.sync.WriteStaged;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The host side of a session as seen from the workstation: every {@link Endpoint} call is a
 * call of the {@code SyncEndpoint} gRPC service on the given channel. A call that fails with
 * UNAVAILABLE (link path died, host restarting) surfaces as
 * {@link Endpoint.PeerUnavailableException}, and the session retries the whole cycle; an
 * endpoint the host no longer knows (it restarted) is opened again transparently.
 *
 * <p>Threads: calls block the caller (the session thread); the watch stream runs on gRPC's
 * executor and re-subscribes from a small scheduler thread.
 */
public final class RemoteEndpoint implements Endpoint {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RemoteEndpoint.class);
  private static final long CALL_SECONDS = 60;

  private final Channel channel;
  private final OpenRequest openRequest;
  private final SyncEndpointGrpc.SyncEndpointBlockingStub blocking;
  private final SyncEndpointGrpc.SyncEndpointStub async;
  private final ScheduledExecutorService resubscriber;
  private volatile String endpointId;
  private volatile boolean forget; // the session was terminated: the host drops its state on close
  private volatile Info info;
  private volatile Runnable listener;
  private volatile boolean closed;
  /**
   * Whether the host's watch stream is known to be live (it has delivered at least one event
   * since it was last (re)subscribed) and whether the host signalled anything since the last
   * changes call. While the stream is live and nothing was signalled, an incremental changes
   * call is answered here without a round trip: the host has nothing new, and a change it
   * sees from now on arrives as an event that queues another cycle.
   */
  private volatile boolean watchLive;
  private final java.util.concurrent.atomic.AtomicBoolean signalled = new java.util.concurrent.atomic.AtomicBoolean(true);
  /** The last answer's lasting parts (errors, collisions), repeated by a skipped call. */
  private volatile ChangeSet lastAnswer;
  /**
   * Small files' content the host sent with its last changes answer, by path, with the hash of
   * the entry it came with: {@link #readFiles} takes a file from here when the coordinator
   * asks for that content, instead of a round trip (over Wi-Fi a host edit took ~2.5 of them).
   */
  private final Map<String, Inline> inline = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong inlineReads = new java.util.concurrent.atomic.AtomicLong();

  /** What {@link #inline} keeps of a file. */
  private record Inline(String hash, byte[] data) {}

  /** Bytes of small files' content taken in a changes answer ({@code ChangesRequest.inline_bytes}). */
  static final int INLINE_BYTES = 256 << 10;
  /** False once the host answered ApplyAll with UNIMPLEMENTED (it predates the call). */
  private volatile boolean applyAllSupported = true;
  /** The bulk plane for whole files, or null (everything goes by gRPC). */
  private final dev.thunderlink.sync.FilePusher pusher;
  /** One transfer at a time: the next batch's overlaps this one's install, not another transfer. */
  private final Object planeLock = new Object();
  /** While the bulk plane is down, when to try it again ({@link System#nanoTime}). */
  private volatile long planeRetryAt;
  /** Whether the plane is down now, and whether that was ever logged (once at WARN, then DEBUG). */
  private volatile boolean planeDown;
  private volatile boolean planeDownLogged;
  /** False once the host answered InstallStaged with UNIMPLEMENTED (it predates the call). */
  private volatile boolean installSupported = true;
  /** False once the host refused a Write's staged part (it predates it): a delta's blocks then go by gRPC. */
  private volatile boolean stagedWritesSupported = true;
  /** How long the bulk plane rests after it failed before a push tries it again. */
  static final long PLANE_RETRY_NANOS = TimeUnit.SECONDS.toNanos(30);

  private RemoteEndpoint(Channel channel, OpenRequest req, dev.thunderlink.sync.FilePusher pusher) {
    this.channel = channel;
    this.openRequest = req;
    this.pusher = pusher;
    this.blocking = SyncEndpointGrpc.newBlockingStub(channel);
    this.async = SyncEndpointGrpc.newStub(channel);
    this.resubscriber = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sync-remote-watch");
      t.setDaemon(true);
      return t;
    });
  }

  public static RemoteEndpoint open(Channel channel, String session, String root, List<String> ignores,
      boolean useGitignore, boolean ignoreVcs, boolean keepOutsideSymlinks) throws IOException {
    return open(channel, null, session, root, ignores, useGitignore, ignoreVcs, keepOutsideSymlinks);
  }

  /** As above, sending small files' content through {@code pusher} (null: by gRPC alone). */
  public static RemoteEndpoint open(Channel channel, dev.thunderlink.sync.FilePusher pusher, String session, String root,
      List<String> ignores, boolean useGitignore, boolean ignoreVcs, boolean keepOutsideSymlinks) throws IOException {
    OpenRequest req = OpenRequest.newBuilder().setSession(session).setRoot(root).addAllIgnorePatterns(ignores)
        .setUseGitignoreFiles(useGitignore).setIgnoreVcs(ignoreVcs)
        .setOutsideSymlinks(keepOutsideSymlinks ? "keep" : "refuse").setCreateRoot(true).build();
    RemoteEndpoint e = new RemoteEndpoint(channel, req, pusher);
    try {
      e.reopen();
    } catch (IOException | RuntimeException ex) {
      e.resubscriber.shutdownNow();
      throw ex;
    }
    e.subscribe();
    return e;
  }

  private void reopen() throws IOException {
    try {
      OpenResponse r = blocking.withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS).open(openRequest);
      endpointId = r.getEndpointId();
      info = new Info(r.getDeviceName(), r.getCaseInsensitive(), r.getNormalizing());
    } catch (StatusRuntimeException e) {
      throw translate(e, "open");
    }
  }

  private IOException translate(StatusRuntimeException e, String what) {
    Status.Code code = e.getStatus().getCode();
    String msg = "remote " + what + ": " + code + (e.getStatus().getDescription() == null ? ""
        : " " + e.getStatus().getDescription());
    switch (code) {
      case UNAVAILABLE:
      case DEADLINE_EXCEEDED:
      case CANCELLED:
      case ABORTED:
        return new PeerUnavailableException(msg, e);
      case UNKNOWN:
        if (e.getStatus().getCause() instanceof java.nio.channels.ClosedChannelException) {
          // grpc-netty's word for a connection closed under the call (the host killed mid-apply):
          // a lost peer, retried with the whole cycle, not this path's error (a status from the
          // host never carries a cause)
          return new PeerUnavailableException(msg, e);
        }
        return new IOException(msg, e);
      case NOT_FOUND:
        try {
          reopen(); // the host restarted and forgot the endpoint
        } catch (IOException ignored) {
          // reported by the retry
        }
        return new PeerUnavailableException(msg, e);
      case FAILED_PRECONDITION:
        return new ContentChangedException(msg);
      case RESOURCE_EXHAUSTED:
        if (e.getStatus().getDescription() != null && e.getStatus().getDescription().startsWith("disk full")) {
          return new DiskFullException(e.getStatus().getDescription());
        }
        return new IOException(msg, e);
      default:
        return new IOException(msg, e);
    }
  }

  private void subscribe() {
    if (closed) {
      return;
    }
    async.watch(WatchRequest.newBuilder().setEndpointId(endpointId).build(), new StreamObserver<WatchEvent>() {
      @Override
      public void onNext(WatchEvent value) {
        signalled.set(true);
        watchLive = true;
        Runnable l = listener;
        if (l != null) {
          l.run();
        }
      }

      @Override
      public void onError(Throwable t) {
        retry(Status.fromThrowable(t).getCode() == Status.Code.NOT_FOUND);
      }

      @Override
      public void onCompleted() {
        retry(false);
      }

      private void retry(boolean forgotten) {
        boolean wasLive = watchLive;
        watchLive = false;
        signalled.set(true);
        if (wasLive || forgotten) {
          // the host went away, or restarted and forgot this endpoint: a cycle finds out which
          // (the session retries a failed one until the host answers, and the answer NOT_FOUND
          // opens the endpoint again). Without it an idle session slept through the host's
          // restart, and what the host's user changed meanwhile waited for a local change or
          // the periodic rescan, with the link up and `status` saying RUNNING.
          Runnable l = listener;
          if (l != null) {
            l.run();
          }
        }
        if (!closed) {
          try {
            resubscriber.schedule(RemoteEndpoint.this::subscribe, 500, TimeUnit.MILLISECONDS);
          } catch (java.util.concurrent.RejectedExecutionException ignored) {
            // closing
          }
        }
      }
    });
  }

  @Override
  public Info info() {
    return info;
  }

  @Override
  public void onChange(Runnable listener) {
    this.listener = listener;
  }

  @Override
  public ChangeSet changes(long sinceSeq, boolean full, Collection<String> rescanPaths, Held held)
      throws IOException {
    ChangeSet last = lastAnswer;
    if (!full && rescanPaths.isEmpty() && watchLive && last != null && last.lastSeq() == sinceSeq
        && !last.rootMissing() && !signalled.getAndSet(false)) {
      return new ChangeSet(Map.of(), sinceSeq, last.errors(), last.collisions(), false, last.generation(), last.watchProblem());
    }
    signalled.set(false); // before the call: an event arriving during it counts for the next one
    try {
      ChangeSet answer = fetchChanges(sinceSeq, full, rescanPaths, held);
      lastAnswer = answer;
      return answer;
    } catch (IOException | RuntimeException e) {
      signalled.set(true);
      throw e;
    }
  }

  private ChangeSet fetchChanges(long sinceSeq, boolean full, Collection<String> rescanPaths, Held held)
      throws IOException {
    ChangesRequest.Builder req = ChangesRequest.newBuilder().setEndpointId(endpointId).setSinceSeq(sinceSeq)
        .setFullRescan(full).addAllRescanPaths(rescanPaths).setInlineBytes(INLINE_BYTES);
    inline.clear(); // what the last answer carried and no one asked for is old now
    if (held.generation() != 0) {
      req.setHeldGeneration(held.generation());
      for (long s : held.ranges()) {
        req.addHeldSeqRanges(s);
      }
    }
    try {
      Iterator<ChangesBatch> it = blocking.withDeadlineAfter(10, TimeUnit.MINUTES).changes(req.build());
      Map<String, Entry> changes = new LinkedHashMap<>();
      Map<String, String> errors = new LinkedHashMap<>();
      List<String> collisions = new ArrayList<>();
      long last = sinceSeq;
      long generation = 0;
      boolean rootMissing = false;
      String watchProblem = "";
      while (it.hasNext()) {
        ChangesBatch b = it.next();
        for (dev.thunderlink.proto.sync.Entry e : b.getEntriesList()) {
          changes.put(PathNames.checkRelative(e.getPath()), ProtoCodec.fromProto(e));
        }
        if (b.getLast()) {
          last = b.getLastSeq();
          generation = b.getGeneration(); // 0 from a host that predates held rows: none are then sent
          rootMissing = b.getRootMissing();
          watchProblem = b.getWatchProblem();
          for (PathError pe : b.getErrorsList()) {
            errors.put(pe.getPath(), pe.getMessage());
          }
          collisions.addAll(b.getCollisionsList());
          for (dev.thunderlink.proto.sync.InlineFile f : b.getInlineList()) {
            Entry e = changes.get(f.getPath());
            if (e != null && e.isFile() && e.size() == f.getData().size()) {
              inline.put(f.getPath(), new Inline(e.hash(), f.getData().toByteArray()));
            }
          }
        }
      }
      return new ChangeSet(changes, last, errors, collisions, rootMissing, generation, watchProblem);
    } catch (StatusRuntimeException e) {
      throw translate(e, "changes");
    }
  }

  @Override
  public BlockSignature blocks(String path, int blockSize) throws IOException {
    try {
      BlockSignaturesResponse r = blocking.withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS).blockSignatures(
          BlockSignaturesRequest.newBuilder().setEndpointId(endpointId).setPath(path).setBlockSize(blockSize).build());
      List<String> hashes = new ArrayList<>();
      for (ByteString b : r.getBlockHashesList()) {
        hashes.add(ContentHash.hex(b.toByteArray()));
      }
      return new BlockSignature(r.getSize(), hashes);
    } catch (StatusRuntimeException e) {
      throw translate(e, "block signatures");
    }
  }

  @Override
  public void read(String path, String expectedHash, List<long[]> ranges, ChunkSink sink) throws IOException {
    ReadRequest.Builder b = ReadRequest.newBuilder().setEndpointId(endpointId).setPath(path)
        .setExpectedHash(ByteString.copyFrom(ContentHash.bytes(expectedHash)));
    for (long[] r : ranges) {
      b.addOffsets(r[0]).addLengths((int) r[1]);
    }
    try {
      Iterator<ReadChunk> it = blocking.withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS).read(b.build());
      while (it.hasNext()) {
        ReadChunk c = it.next();
        sink.accept(c.getOffset(), c.getData().toByteArray());
      }
    } catch (StatusRuntimeException e) {
      throw translate(e, "read " + path);
    }
  }

  private ApplyRequest request(Op op) {
    ApplyRequest.Builder b = ApplyRequest.newBuilder().setEndpointId(endpointId)
        .setOp(ApplyRequest.Op.valueOf(op.kind().name()))
        .setExpected(ProtoCodec.toProto(op.path(), op.expected()))
        .setTarget(ProtoCodec.toProto(op.path(), op.target()));
    if (op.toPath() != null) {
      b.setToPath(op.toPath()).setExpectedTo(ProtoCodec.toProto(op.toPath(), op.expectedTo()));
    }
    return b.build();
  }

  @Override
  public ApplyResult apply(Op op) throws IOException {
    try {
      return fromProto(blocking.withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS).apply(request(op)));
    } catch (StatusRuntimeException e) {
      throw translate(e, "apply " + op.kind() + " " + op.path());
    }
  }

  /**
   * One ApplyAll call; against a host that predates it (UNIMPLEMENTED) one Apply call per op,
   * remembered for the rest of this endpoint's life.
   */
  @Override
  public List<ApplyResult> applyAll(List<Op> ops) throws IOException {
    if (ops.size() > OPS_PER_CALL) {
      throw new IllegalArgumentException("apply all: " + ops.size() + " ops (expected: at most " + OPS_PER_CALL + ")");
    }
    if (!applyAllSupported || ops.size() == 1) {
      return Endpoint.super.applyAll(ops);
    }
    ApplyAllRequest.Builder b = ApplyAllRequest.newBuilder().setEndpointId(endpointId);
    for (Op op : ops) {
      b.addOps(request(op));
    }
    ApplyAllResponse r;
    try {
      r = blocking.withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS).applyAll(b.build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
        applyAllSupported = false;
        return Endpoint.super.applyAll(ops);
      }
      throw translate(e, "apply " + ops.size() + " ops");
    }
    return results(r.getResultsList(), ops.size(), "apply all", "ops");
  }

  /** Test hook: does the host take ApplyAll (false once it answered UNIMPLEMENTED)? */
  boolean applyAllSupported() {
    return applyAllSupported;
  }

  /**
   * The files' content: from what the last changes answer carried where it has the expected
   * hash (the writer checks the bytes against it again), the rest in one call.
   */
  @Override
  public List<byte[]> readFiles(List<String> paths, List<String> expectedHashes) throws IOException {
    List<byte[]> out = new ArrayList<>(java.util.Collections.nCopies(paths.size(), (byte[]) null));
    List<Integer> ask = new ArrayList<>(paths.size());
    for (int i = 0; i < paths.size(); i++) {
      Inline x = inline.isEmpty() ? null : inline.remove(paths.get(i));
      if (x != null && x.hash().equals(expectedHashes.get(i))) {
        out.set(i, x.data());
        inlineReads.incrementAndGet();
      } else {
        ask.add(i);
      }
    }
    if (ask.size() == paths.size()) {
      return fetchFiles(paths, expectedHashes);
    }
    if (!ask.isEmpty()) {
      List<byte[]> got = fetchFiles(ask.stream().map(paths::get).toList(), ask.stream().map(expectedHashes::get).toList());
      for (int k = 0; k < ask.size(); k++) {
        out.set(ask.get(k), got.get(k));
      }
    }
    return out;
  }

  /** Files whose content came with a changes answer, not by {@link #readFiles}' call (tests). */
  public long inlineReads() {
    return inlineReads.get();
  }

  private List<byte[]> fetchFiles(List<String> paths, List<String> expectedHashes) throws IOException {
    ReadFilesRequest.Builder b = ReadFilesRequest.newBuilder().setEndpointId(endpointId).addAllPaths(paths);
    for (String h : expectedHashes) {
      b.addExpectedHashes(ByteString.copyFrom(ContentHash.bytes(h)));
    }
    ReadFilesResponse r;
    try {
      r = blocking.withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS).readFiles(b.build());
    } catch (StatusRuntimeException e) {
      throw translate(e, "read " + paths.size() + " files");
    }
    if (r.getFilesCount() != paths.size()) {
      throw new IOException("remote read files: " + r.getFilesCount() + " answers for " + paths.size() + " files");
    }
    List<byte[]> out = new ArrayList<>(paths.size());
    for (FileContent c : r.getFilesList()) {
      out.add(c.getChanged() ? null : c.getData().toByteArray());
    }
    return out;
  }

  @Override
  public List<ApplyResult> writeFiles(List<WholeFile> files, int blockSize) throws IOException {
    WriteFilesRequest.Builder b = WriteFilesRequest.newBuilder().setEndpointId(endpointId).setBlockSize(blockSize);
    for (WholeFile f : files) {
      b.addFiles(dev.thunderlink.proto.sync.WholeFile.newBuilder().setExpected(ProtoCodec.toProto(f.path(), f.expected()))
          .setTarget(ProtoCodec.toProto(f.path(), f.target())).setData(ByteString.copyFrom(f.data())));
    }
    WriteFilesResponse r;
    try {
      r = blocking.withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS).writeFiles(b.build());
    } catch (StatusRuntimeException e) {
      throw translate(e, "write " + files.size() + " files");
    }
    return results(r.getResultsList(), files.size(), "write files", "files");
  }

  /** One result per item asked for, in order; a host answering for a different number is broken. */
  private static List<ApplyResult> results(List<ApplyResponse> answers, int asked, String call, String items)
      throws IOException {
    if (answers.size() != asked) {
      throw new IOException("remote " + call + ": " + answers.size() + " answers for " + asked + " " + items);
    }
    List<ApplyResult> out = new ArrayList<>(asked);
    for (ApplyResponse a : answers) {
      out.add(fromProto(a));
    }
    return out;
  }

  static ApplyResult fromProto(ApplyResponse r) {
    switch (r.getOutcome()) {
      case OK:
        return ApplyResult.ok(ProtoCodec.fromProto(r.getResult()), r.getSeq());
      case CHANGED:
        return ApplyResult.changed(r.getMessage());
      default:
        return ApplyResult.failed(r.getMessage());
    }
  }

  /**
   * A file to move whole over the bulk plane: its path, where it is on the workstation's disk
   * (a push's source, a pull's destination), what the destination must hold and get.
   */
  private record LocalFile(String path, java.nio.file.Path local, Entry expected, Entry target) {}

  /** Pushes from the workstation's disk, when the plane may carry them now. */
  @Override
  public Bulk bulkFrom(Endpoint from) {
    return from instanceof DiskEndpoint disk && pushes() ? new PlaneDirection(disk, true) : null;
  }

  /** Pulls to the workstation's disk, when the plane may carry them now. */
  @Override
  public Bulk bulkTo(Endpoint to) {
    return to instanceof DiskEndpoint disk && pulls() ? new PlaneDirection(disk, false) : null;
  }

  /** The bulk plane between {@code disk} (the workstation's side) and the host, one way. */
  private final class PlaneDirection implements Bulk {
    private final DiskEndpoint disk;
    private final boolean push;

    PlaneDirection(DiskEndpoint disk, boolean push) {
      this.disk = disk;
      this.push = push;
    }

    /**
     * Small files from the host ({@code batch}) come by ReadFiles: pulled over the bulk plane
     * one by one (a GET, frames, a digest and a verdict each, a second rename and a re-read to
     * check the hash, against one message per batch) a 20,000-file initial sync took a tenth
     * to a third more of the daemons' CPU and up to twice the time.
     */
    @Override
    public List<ApplyResult> files(List<String> paths, List<Entry> srcs, List<Entry> dsts, boolean batch, int blockSize)
        throws IOException {
      if (batch && !push) {
        return null;
      }
      List<LocalFile> files = new ArrayList<>(paths.size());
      for (int i = 0; i < paths.size(); i++) {
        files.add(new LocalFile(paths.get(i), disk.file(paths.get(i)), dsts.get(i), srcs.get(i)));
      }
      return push ? pushFiles(files, blockSize) : pullFiles(files, disk, blockSize);
    }

    /** Pushes: small files travel over the plane and InstallStaged carries only their names. */
    @Override
    public boolean carriesBatches() {
      return push;
    }

    @Override
    public String stageRanges(String path, Entry src, List<long[]> ranges) {
      if (push && !stagedWritesSupported) {
        return null;
      }
      long total = 0;
      for (long[] r : ranges) {
        total += r[1];
      }
      long size = total;
      List<Staged> staged = stage(List.of(new LocalFile(path, disk.file(path), null, src)), push, (f, rel) -> push
          ? new dev.thunderlink.sync.FilePusher.Item(f.local(), hostPath(rel), size, ranges)
          : new dev.thunderlink.sync.FilePusher.Item(f.local().resolveSibling(PathNames.fileName(rel)), hostPath(path),
              size, ranges));
      return staged.isEmpty() ? null : PathNames.fileName(staged.get(0).path());
    }
  }

  /** True if whole files may go to the host over the bulk plane now ({@link #pushFiles}). */
  private boolean pushes() {
    return installSupported && pulls();
  }

  /**
   * True if whole files may come from the host over the bulk plane now ({@link #pullFiles}):
   * a host that predates InstallStaged still serves them.
   */
  private boolean pulls() {
    return pusher != null && (!planeDown || System.nanoTime() - planeRetryAt >= 0);
  }

  /**
   * Pushes the files over the bulk plane to temporary names beside their destinations, then
   * has the host install them in one call ({@code InstallStaged}: checked against the target's
   * hash, destination re-checked, renamed, recorded). One element per file, in order; null for
   * a file that did not go this way (see {@link #stage}): the caller sends those by
   * {@link #writeFiles}.
   */
  private List<ApplyResult> pushFiles(List<LocalFile> files, int blockSize) throws IOException {
    ApplyResult[] out = new ApplyResult[files.size()];
    List<Staged> staged = stage(files, true, (f, rel) ->
        new dev.thunderlink.sync.FilePusher.Item(f.local(), hostPath(rel), f.target().size(), null, f.target().hash(),
            f.target().mtimeMillis(), f.target().executable()));
    if (staged.isEmpty()) {
      return java.util.Arrays.asList(out);
    }
    InstallStagedRequest.Builder b = InstallStagedRequest.newBuilder().setEndpointId(endpointId).setBlockSize(blockSize);
    for (Staged st : staged) {
      LocalFile f = files.get(st.index());
      b.addFiles(StagedFile.newBuilder().setExpected(ProtoCodec.toProto(f.path(), f.expected()))
          .setTarget(ProtoCodec.toProto(f.path(), f.target())).setStagedPath(st.path()));
    }
    WriteFilesResponse r;
    try {
      r = blocking.withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS).installStaged(b.build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
        installSupported = false;
        log.warn("sync {}: the host cannot install files pushed over the bulk plane (it predates that);"
            + " file content goes over gRPC", openRequest.getSession());
        return java.util.Arrays.asList(out);
      }
      throw translate(e, "install " + staged.size() + " files");
    }
    return placed(out, staged, results(r.getResultsList(), staged.size(), "install staged", "files"));
  }

  /**
   * Pulls the host's files over the bulk plane to temporary names beside their destinations
   * on {@code disk} (the workstation's side), then installs them there as the host installs a
   * push ({@link DiskEndpoint#installStaged}: a copy that is not the target's content, its
   * source changed since the scan, answers CHANGED; the destination is re-checked before the
   * rename). Results as for {@link #pushFiles}; the caller reads the rest by {@link #readFiles}.
   */
  private List<ApplyResult> pullFiles(List<LocalFile> files, DiskEndpoint disk, int blockSize) throws IOException {
    ApplyResult[] out = new ApplyResult[files.size()];
    List<Staged> staged = stage(files, false, (f, rel) -> new dev.thunderlink.sync.FilePusher.Item(
        f.local().resolveSibling(PathNames.fileName(rel)), hostPath(f.path()), f.target().size()));
    if (staged.isEmpty()) {
      return java.util.Arrays.asList(out);
    }
    List<DiskEndpoint.StagedFile> install = new ArrayList<>(staged.size());
    for (Staged st : staged) {
      LocalFile f = files.get(st.index());
      install.add(new DiskEndpoint.StagedFile(f.path(), f.expected(), f.target(), st.path()));
    }
    return placed(out, staged, disk.installStaged(install, blockSize));
  }

  /** A file moved over the bulk plane: its index in the call, its copy's path relative to the root. */
  private record Staged(int index, String path) {}

  /**
   * Moves the files over the bulk plane (pushes or pulls, one at a time per endpoint: the next
   * batch's transfer overlaps this one's install) to fresh temporary names in their
   * destinations' directories; returns the ones that arrived. A file whose path is not plain
   * ASCII does not go this way (the host may store its directory's name in another normal
   * form), nor does any when the plane fails or refuses the whole call (it then rests for
   * {@link #PLANE_RETRY_NANOS}).
   *
   * @param item the transfer of a file whose copy goes to the given path relative to the root
   */
  private List<Staged> stage(List<LocalFile> files, boolean push,
      java.util.function.BiFunction<LocalFile, String, dev.thunderlink.sync.FilePusher.Item> item) {
    List<Staged> moving = new ArrayList<>();
    List<dev.thunderlink.sync.FilePusher.Item> items = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      String path = files.get(i).path();
      if (!PathNames.isAscii(path)) {
        continue;
      }
      String parent = PathNames.parent(path);
      String rel = (parent.isEmpty() ? "" : parent + "/") + DiskEndpoint.tempName();
      moving.add(new Staged(i, rel));
      items.add(item.apply(files.get(i), rel));
    }
    if (items.isEmpty()) {
      return List.of();
    }
    List<String> errors;
    synchronized (planeLock) {
      try {
        errors = push ? pusher.push(items) : pusher.pull(items);
      } catch (IOException e) {
        planeFailed(e.getMessage());
        return List.of();
      }
    }
    if (items.size() > 1 && errors.stream().allMatch(java.util.Objects::nonNull)
        && !(push && allChangedSinceScanned(files, moving))) {
      planeFailed(errors.get(0)); // refused as a whole (e.g. the root is outside the host's bulk roots)
      return List.of();
    }
    if (planeDown) {
      planeDown = false;
      log.info("sync {}: file content goes over the bulk plane again", openRequest.getSession());
    }
    List<Staged> arrived = new ArrayList<>(moving.size());
    for (int k = 0; k < items.size(); k++) {
      if (errors.get(k) == null) {
        arrived.add(moving.get(k));
      } else {
        log.debug("sync {}: {} not {} ({}); sending it by gRPC", openRequest.getSession(),
            files.get(moving.get(k).index()).path(), push ? "pushed" : "pulled", errors.get(k));
      }
    }
    return arrived;
  }

  /**
   * Whether every file of a push that failed as a whole is no longer what was scanned (its size
   * or time differs, or it is gone): then the files explain the failure, not the plane. The host
   * refuses a pushed file whose content is not the scanned one, so two files an editor saved
   * again while they were on their way would otherwise take the plane down for
   * {@link #PLANE_RETRY_NANOS}.
   */
  private static boolean allChangedSinceScanned(List<LocalFile> files, List<Staged> moving) {
    for (Staged st : moving) {
      LocalFile f = files.get(st.index());
      try {
        java.nio.file.attribute.BasicFileAttributes a = java.nio.file.Files.readAttributes(f.local(),
            java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (a.isRegularFile() && a.size() == f.target().size()
            && a.lastModifiedTime().toMillis() == f.target().mtimeMillis()) {
          return false; // as scanned, and still refused: the plane's doing
        }
      } catch (IOException e) {
        // gone or unreadable since: changed
      }
    }
    return true;
  }

  /** The host's absolute path of a path relative to the root. */
  private String hostPath(String rel) {
    String root = openRequest.getRoot();
    return (root.endsWith("/") ? root : root + "/") + rel;
  }

  /** {@code out} with each staged file's result at its index. */
  private static List<ApplyResult> placed(ApplyResult[] out, List<Staged> staged, List<ApplyResult> results) {
    for (int k = 0; k < staged.size(); k++) {
      out[staged.get(k).index()] = results.get(k);
    }
    return java.util.Arrays.asList(out);
  }

  /** The bulk plane failed as a whole: gRPC carries the content until {@link #PLANE_RETRY_NANOS} from now. */
  private void planeFailed(String why) {
    planeRetryAt = System.nanoTime() + PLANE_RETRY_NANOS;
    planeDown = true;
    if (!planeDownLogged) {
      planeDownLogged = true;
      log.warn("sync {}: file content goes over gRPC, the bulk plane failed: {} (tried again every {} s)",
          openRequest.getSession(), why, TimeUnit.NANOSECONDS.toSeconds(PLANE_RETRY_NANOS));
    } else {
      log.debug("sync {}: the bulk plane failed again: {}", openRequest.getSession(), why);
    }
  }

  @Override
  public FileUpload beginWrite(String path, Entry expected, Entry target, int blockSize) throws IOException {
    return new RemoteUpload(path, expected, target, blockSize);
  }

  /** A client-streaming Write call that respects gRPC flow control (waits for isReady). */
  private final class RemoteUpload implements FileUpload {
    private final CompletableFuture<ApplyResponse> response = new CompletableFuture<>();
    private final Object readyLock = new Object();
    private ClientCallStreamObserver<WriteMessage> requests;
    private final String path;
    private boolean finished;
    private boolean staged;

    RemoteUpload(String path, Entry expected, Entry target, int blockSize) throws IOException {
      this.path = path;
      async.withDeadlineAfter(10, TimeUnit.MINUTES).write(new ClientResponseObserver<WriteMessage, ApplyResponse>() {
        @Override
        public void beforeStart(ClientCallStreamObserver<WriteMessage> stream) {
          requests = stream;
          stream.setOnReadyHandler(() -> {
            synchronized (readyLock) {
              readyLock.notifyAll();
            }
          });
        }

        @Override
        public void onNext(ApplyResponse value) {
          response.complete(value);
        }

        @Override
        public void onError(Throwable t) {
          response.completeExceptionally(t);
          synchronized (readyLock) {
            readyLock.notifyAll();
          }
        }

        @Override
        public void onCompleted() {
          response.completeExceptionally(new IOException("remote write ended without a result"));
        }
      });
      send(WriteMessage.newBuilder().setHeader(WriteHeader.newBuilder().setEndpointId(endpointId)
          .setExpected(ProtoCodec.toProto(path, expected)).setTarget(ProtoCodec.toProto(path, target))
          .setBlockSize(blockSize)).build());
    }

    private void send(WriteMessage m) throws IOException {
      synchronized (readyLock) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CALL_SECONDS);
        while (!requests.isReady() && !response.isDone()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new PeerUnavailableException("remote write " + path + ": peer not reading", null);
          }
          try {
            readyLock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
          }
        }
      }
      if (response.isDone()) {
        result(); // throws the failure
      }
      requests.onNext(m);
    }

    @Override
    public void copyBasis(long firstBlock, long blockCount) throws IOException {
      send(WriteMessage.newBuilder().setBasis(WriteBasis.newBuilder().setBlockIndex(firstBlock)
          .setBlockCount(blockCount)).build());
    }

    @Override
    public void write(long offset, byte[] data) throws IOException {
      send(WriteMessage.newBuilder().setLiteral(WriteLiteral.newBuilder().setOffset(offset)
          .setData(ByteString.copyFrom(data))).build());
    }

    @Override
    public void copyStaged(String stagedName, long stagedOffset, long offset, long length) throws IOException {
      staged = true;
      send(WriteMessage.newBuilder().setStaged(WriteStaged.newBuilder().setName(stagedName)
          .setStagedOffset(stagedOffset).setOffset(offset).setLength(length)).build());
    }

    @Override
    public ApplyResult commit() throws IOException {
      send(WriteMessage.newBuilder().setCommit(WriteCommit.getDefaultInstance()).build());
      requests.onCompleted();
      finished = true;
      return fromProto(result());
    }

    private ApplyResponse result() throws IOException {
      try {
        return response.get(CALL_SECONDS, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof StatusRuntimeException x) {
          if (staged && x.getStatus().getCode() == Status.Code.INVALID_ARGUMENT
              && String.valueOf(x.getStatus().getDescription()).startsWith("write message: empty")) {
            stagedWritesSupported = false;
            log.warn("sync {}: the host cannot build a file from blocks pushed over the bulk plane (it predates that);"
                + " a delta's blocks go over gRPC", openRequest.getSession());
          }
          throw translate(x, "write " + path);
        }
        throw new IOException("remote write " + path + ": " + e.getCause(), e.getCause());
      } catch (TimeoutException e) {
        throw new PeerUnavailableException("remote write " + path + ": no answer", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }

    @Override
    public void close() {
      if (!finished) {
        finished = true;
        requests.cancel("aborted", null);
      }
    }
  }

  @Override
  public void forgetOnClose() {
    forget = true;
  }

  private volatile boolean forgotten;

  @Override
  public boolean forgotten() {
    return forgotten;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    resubscriber.shutdownNow();
    try {
      blocking.withDeadlineAfter(5, TimeUnit.SECONDS)
          .close(CloseRequest.newBuilder().setEndpointId(endpointId).setForget(forget).build());
      forgotten = forget;
    } catch (StatusRuntimeException e) {
      // the host may be gone; its endpoint closes with it (a forget is asked again: forgotten() false)
    }
  }

  /**
   * Tells the host to drop its index of the session {@code session} of this workstation (what
   * a terminate's close does), for a session terminated while the host was out of reach.
   *
   * @throws IOException the host could not be asked (its status in the message)
   */
  public static void forget(Channel channel, String session) throws IOException {
    try {
      SyncEndpointGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
          .close(CloseRequest.newBuilder().setEndpointId(session).setForget(true).build());
    } catch (StatusRuntimeException e) {
      throw new IOException("host forget " + session + ": " + e.getStatus().getCode() + " "
          + e.getStatus().getDescription(), e);
    }
  }

  Channel channel() {
    return channel;
  }

  /** Test hook: has the host's watch stream delivered its first event since (re)subscribing? */
  boolean watchLive() {
    return watchLive;
  }
}
