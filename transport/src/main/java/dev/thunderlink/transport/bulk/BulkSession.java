package dev.thunderlink.transport.bulk;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.bulk.BulkControlGrpc;
import dev.thunderlink.proto.bulk.Digest;
import dev.thunderlink.proto.bulk.DigestAlgorithm;
import dev.thunderlink.proto.bulk.FileEntry;
import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.GetRequest;
import dev.thunderlink.proto.bulk.Hello;
import dev.thunderlink.proto.bulk.ListRequest;
import dev.thunderlink.proto.bulk.MakeEntry;
import dev.thunderlink.proto.bulk.MakeRequest;
import dev.thunderlink.proto.bulk.MakeResult;
import dev.thunderlink.proto.bulk.OpenSessionRequest;
import dev.thunderlink.proto.bulk.OpenSessionResponse;
import dev.thunderlink.proto.bulk.Range;
import dev.thunderlink.proto.bulk.StatRequest;
import dev.thunderlink.proto.bulk.Verdict;
import dev.thunderlink.proto.bulk.VerifyMessage;
import dev.thunderlink.transport.BulkAcceptor;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.TlsContexts;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.bulk.internal.BulkConnection;
import dev.thunderlink.transport.bulk.internal.FileSender;
import dev.thunderlink.transport.bulk.internal.Frame;
import dev.thunderlink.transport.bulk.internal.Hashing;
import dev.thunderlink.transport.bulk.internal.PermittedRoots;
import dev.thunderlink.transport.bulk.internal.VerifyBatch;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One bulk session with the host: a bulk connection plus its Verify stream on the control
 * plane. {@link #push} sends files, {@link #pull} fetches them; both pipeline every file
 * (no round trip per file) and return one {@link TransferResult} per item, in order.
 *
 * <p>A file succeeds only when the receiver's hash of what it wrote equals the sender's,
 * exchanged over gRPC: XXH3-128 or SHA-256, as {@link BulkConfig.DigestChoice} and the
 * host's setting agree. When the connection or the control stream fails mid-way, the
 * unfinished files come back with {@link TransferResult#retryable()} errors; the receiver
 * keeps their verified-so-far bytes, so a new session (on whichever path is active then)
 * resumes them: push via {@link #stat}'s partial size and hash, pull via the local partial.
 *
 * <p>Threads: {@link #push} and {@link #pull} block the caller (one at a time per
 * session); verdicts arrive on gRPC's executor, received files on the connection's disk
 * thread. {@link #cancel()} may be called from any thread.
 */
public final class BulkSession implements AutoCloseable {
  private final BulkClient client;
  private final LinkPath path;
  private final BulkControlGrpc.BulkControlBlockingStub stub;
  private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
  private final Map<Integer, Path> expected = new ConcurrentHashMap<>();
  /** The size each ranged GET's stream must have (a host that predates ranges sends the whole file). */
  private final Map<Integer, Long> rangedSizes = new ConcurrentHashMap<>();
  private final AtomicInteger nextStream = new AtomicInteger(1);
  private final CompletableFuture<Void> helloOk = new CompletableFuture<>();
  private String sessionId;
  private boolean encrypted;
  /** Set once in {@link #start()}, read by gRPC callbacks. */
  private volatile BulkConnection conn;
  private StreamObserver<VerifyMessage> verifyOut;
  private volatile String failure;
  private volatile boolean failureRetryable = true;
  private volatile boolean cancelled;
  private volatile boolean pushing;
  /** Digests (push) and verdicts (pull) for the host, batched. */
  private final VerifyBatch toHost = new VerifyBatch(this::sendVerify);

  private static final class Pending {
    final int index;
    final String path;
    final long size;
    final CompletableFuture<Verdict> future = new CompletableFuture<>();
    volatile TransferMode mode;
    volatile long sent;

    Pending(int index, String path, long size) {
      this.index = index;
      this.path = path;
      this.size = size;
    }
  }

  private BulkSession(BulkClient client, LinkPath path) {
    this.client = client;
    this.path = path;
    this.stub = BulkControlGrpc.newBlockingStub(client.control);
  }

  static BulkSession open(BulkClient client) throws BulkException {
    LinkPath path =
        client.target.get().orElseThrow(() -> new BulkException("no path to the host is up", true));
    BulkSession s = new BulkSession(client, path);
    try {
      s.start();
      return s;
    } catch (BulkException e) {
      s.close();
      throw e;
    }
  }

  private void start() throws BulkException {
    BulkConfig cfg = client.config;
    boolean wantPlain = !cfg.encrypts(path.kind());
    OpenSessionResponse r;
    try {
      r = stub.withDeadlineAfter(10, TimeUnit.SECONDS).openSession(OpenSessionRequest.newBuilder().setPlaintext(wantPlain).setDigest(wire(cfg.digest())).build());
    } catch (StatusRuntimeException e) {
      throw grpcFailure("cannot open a bulk session", e);
    }
    sessionId = r.getSessionId();
    encrypted = !(wantPlain && r.getPlaintextAllowed());
    verifyOut = BulkControlGrpc.newStub(client.control).verify(new VerifyIn());
    sendVerify(VerifyMessage.newBuilder().setSessionId(sessionId).build());

    AtomicReference<BulkConnection> holder = new AtomicReference<>();
    Bootstrap b =
        new Bootstrap()
            .group(client.group)
            .channel(client.transport.channelClass())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    BulkConnection c = BulkConnection.install(ch, cfg, client.counters, encrypted, new ClientRole(), true);
                    String name = path.name();
                    c.onTraffic(() -> client.traffic.accept(name));
                    holder.set(c);
                  }
                });
    client.tuning(path.kind()).applyTo(b);
    ChannelFuture cf = b.connect(path.address());
    String where = path.address().getAddress().getHostAddress() + ":" + path.address().getPort();
    if (!cf.awaitUninterruptibly(10, TimeUnit.SECONDS) || !cf.isSuccess()) {
      cf.channel().close();
      throw new BulkException(
          "cannot open a bulk connection to " + where + ": " + (cf.cause() == null ? "timed out" : cf.cause().getMessage()), true);
    }
    conn = holder.get();
    conn.fastPath(path.kind().thunderboltClass());
    // the host's answer already weighs both settings; ours is enforced here as well
    boolean xxh3 = r.getDigest() == DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128 && !cfg.digest().wantsSha256(encrypted);
    conn.digest(xxh3 ? DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128 : DigestAlgorithm.DIGEST_ALGORITHM_SHA256);
    CompletableFuture<Void> ready = new CompletableFuture<>();
    io.netty.channel.Channel ch = cf.channel();
    ch.eventLoop()
        .execute(
            () -> {
              String preface = encrypted ? BulkAcceptor.PREFACE_TLS : BulkAcceptor.PREFACE_PLAIN;
              ch.writeAndFlush(Unpooled.copiedBuffer(preface, StandardCharsets.US_ASCII));
              if (!encrypted) {
                ready.complete(null);
                return;
              }
              SslHandler ssl = client.tls.newHandler(ch.alloc(), path.address().getHostString(), path.address().getPort());
              ch.pipeline().addFirst("bulk-tls", ssl);
              ssl.handshakeFuture()
                  .addListener(f -> {
                    String fp = f.isSuccess() ? TlsContexts.peerFingerprint(ssl) : null;
                    if (f.isSuccess() && !client.trusts.test(fp)) {
                      ch.close();
                      ready.completeExceptionally(new BulkException(
                          "the host certificate " + (fp == null ? "(none)" : DeviceIdentity.deviceIdOf(fp))
                              + " is not a paired peer; run `thunderlink pair` to pair it", false));
                    } else if (f.isSuccess()) {
                      ready.complete(null);
                    } else {
                      ready.completeExceptionally(f.cause());
                    }
                  });
            });
    await(ready, "TLS handshake with the host at " + where);
    Hello hello = Hello.newBuilder().setSessionId(sessionId).setTicket(ByteString.copyFrom(r.getTicket().toByteArray())).build();
    conn.writeFrame(Frame.encode(ch.alloc(), Frame.HELLO, 0, hello.toByteArray()), true);
    await(helloOk, "bulk connection to " + where);
  }

  private static DigestAlgorithm wire(BulkConfig.DigestChoice c) {
    switch (c) {
      case SHA256:
        return DigestAlgorithm.DIGEST_ALGORITHM_SHA256;
      case XXH3_128:
        return DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128;
      default:
        return DigestAlgorithm.DIGEST_ALGORITHM_UNSPECIFIED;
    }
  }

  /** The content hash this session verifies files with: "XXH3-128" or "SHA-256". */
  public String digestName() {
    return Hashing.name(conn.digest());
  }

  private void await(CompletableFuture<Void> f, String what) throws BulkException {
    try {
      f.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      while (c.getCause() != null) {
        c = c.getCause();
      }
      throw new BulkException(what + " failed: " + c.getMessage(), !(e.getCause() instanceof BulkException));
    } catch (TimeoutException e) {
      throw new BulkException(what + " timed out" + (failure != null ? ": " + failure : ""), true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BulkException("interrupted", false);
    }
  }

  private static BulkException grpcFailure(String what, StatusRuntimeException e) {
    Status.Code c = e.getStatus().getCode();
    boolean retry = c == Status.Code.UNAVAILABLE || c == Status.Code.DEADLINE_EXCEEDED || c == Status.Code.CANCELLED;
    String d = e.getStatus().getDescription();
    return new BulkException(what + ": " + (d == null ? c.toString() : d), retry, e);
  }

  /**
   * False once the connection has ended: cut, failed, or closed by either side after a minute
   * with no traffic (an idle session kept for the next batch). Open another then.
   */
  public boolean usable() {
    BulkConnection c = conn;
    return failure == null && c != null && c.channel().isActive();
  }

  /** Whether the bulk connection is encrypted (TLS) or plaintext. */
  public boolean encrypted() {
    return encrypted;
  }

  /** The path this session's bulk connection runs over. */
  public LinkPath path() {
    return path;
  }

  // ---- planning ----------------------------------------------------------------------

  /** What the host has at each path (one call). */
  public List<FileEntry> stat(List<String> paths) throws BulkException {
    List<FileEntry> out = new ArrayList<>();
    int batch = 2000;
    for (int i = 0; i < paths.size(); i += batch) {
      try {
        out.addAll(
            stub.withDeadlineAfter(60, TimeUnit.SECONDS)
                .stat(StatRequest.newBuilder().addAllPaths(paths.subList(i, Math.min(paths.size(), i + batch))).build())
                .getEntriesList());
      } catch (StatusRuntimeException e) {
        throw grpcFailure("cannot stat on the host", e);
      }
    }
    return out;
  }

  /**
   * The files, directories and symbolic links (with their target, not followed) under a host
   * path. The first entry, with an empty path, is the listed path itself: a file alone, or
   * the top directory before its contents.
   */
  public List<FileEntry> list(String hostPath) throws BulkException {
    List<FileEntry> out = new ArrayList<>();
    try {
      Iterator<FileEntry> it =
          stub.withDeadlineAfter(120, TimeUnit.SECONDS).list(ListRequest.newBuilder().setPath(hostPath).build());
      it.forEachRemaining(out::add);
    } catch (StatusRuntimeException e) {
      throw grpcFailure("cannot list " + hostPath + " on the host", e);
    }
    return out;
  }

  /**
   * Creates directories and symbolic links on the host, in order (one call); one result per
   * entry, an empty error meaning success. The host refuses paths and link targets outside
   * its permitted roots.
   */
  public List<MakeResult> make(List<MakeEntry> entries) throws BulkException {
    List<MakeResult> out = new ArrayList<>();
    int batch = 2000;
    for (int i = 0; i < entries.size(); i += batch) {
      try {
        out.addAll(
            stub.withDeadlineAfter(60, TimeUnit.SECONDS)
                .make(MakeRequest.newBuilder().addAllEntries(entries.subList(i, Math.min(entries.size(), i + batch))).build())
                .getResultsList());
      } catch (StatusRuntimeException e) {
        throw grpcFailure("cannot create directories and links on the host", e);
      }
    }
    return out;
  }

  // ---- push --------------------------------------------------------------------------

  /** Sends the files; one result per item, in order. */
  public List<TransferResult> push(List<PushItem> items, TransferListener listener) {
    return push(items, listener, false);
  }

  /**
   * Sends the files as {@link #push} does, but the host leaves each verified file at its
   * partial name beside its remote path ({@code .NAME.tlpart}, with its mtime and executable
   * bit) instead of renaming it there, for a caller that installs it itself (one rename on the
   * host instead of two). A host that predates this renames it to its remote path as
   * {@link #push} does. Items with ranges (a delta's changed blocks, which the caller then reads
   * at their remote path) are never staged.
   */
  public List<TransferResult> pushStaged(List<PushItem> items, TransferListener listener) {
    return push(items, listener, true);
  }

  private List<TransferResult> push(List<PushItem> items, TransferListener listener, boolean stage) {
    pushing = true;
    try {
      return pushAll(items, listener, stage);
    } finally {
      pushing = false;
    }
  }

  private List<TransferResult> pushAll(List<PushItem> items, TransferListener listener, boolean stage) {
    TransferResult[] res = new TransferResult[items.size()];
    List<Pending> waits = new ArrayList<>();
    FileSender sender = new FileSender(conn, stage);
    for (int i = 0; i < items.size(); i++) {
      PushItem it = items.get(i);
      if (cancelled || failure != null) {
        res[i] = done(listener, failed(it.remotePath(), 0, cancelled ? "cancelled" : failure, !cancelled && failureRetryable));
        continue;
      }
      FileSender.Source source;
      try {
        source = it.attributes() != null ? FileSender.Source.of(it.local(), it.attributes()) : FileSender.Source.of(it.local());
      } catch (IOException e) {
        res[i] = done(listener, failed(it.remotePath(), 0, "cannot read " + it.local() + ": " + e.getMessage(), false));
        continue;
      }
      BasicFileAttributes a = source.attributes();
      boolean exec = source.executable();
      FileEntry rs = it.remote();
      if (rs != null && !rs.getError().isEmpty()) {
        res[i] = done(listener, failed(it.remotePath(), a.size(), rs.getError(), false));
        continue;
      }
      boolean ranged = it.ranges() != null; // a delta's blocks: their host path is no copy to skip or resume
      if (!ranged && rs != null && rs.getExists() && !rs.getDirectory() && rs.getSize() == a.size()
          && rs.getMtimeMillis() == a.lastModifiedTime().toMillis() && rs.getExecutable() == exec) {
        res[i] = done(listener, new TransferResult(it.remotePath(), a.size(), 0, null, true, null, false));
        continue;
      }
      long offset = 0;
      if (!ranged && rs != null && rs.getPartialBytes() > 0 && rs.getPartialBytes() <= a.size()
          && prefixMatches(it.local(), rs.getPartialBytes(), rs.getPartialSha256())) {
        offset = rs.getPartialBytes();
      }
      int stream = nextStream.getAndIncrement();
      Pending p = new Pending(i, it.remotePath(), ranged ? FileRange.total(it.ranges()) : a.size());
      pending.put(stream, p);
      try {
        FileSender.Outcome o = sender.send(stream, it.local(), source, it.remotePath(), offset, it.ranges(),
            it.sha256(), listener::bytes, () -> cancelled || p.future.isDone());
        p.mode = o.mode();
        p.sent = o.sentBytes();
        toHost.add(VerifyMessage.newBuilder().setStreamId(stream).setDigest(o.digest()).build());
        if (o.sentBytes() >= client.config.chunkBytes()) {
          toHost.flush(); // a large file: its verdict should not wait for a batch to fill
        }
        waits.add(p);
      } catch (BulkException e) {
        pending.remove(stream);
        // the stream was stopped because the receiver failed it or the connection died:
        // report that reason (and whether it is retryable), not the sender's "cancelled"
        res[i] =
            done(listener, p.future.isDone() && !cancelled ? outcome(p) : failed(it.remotePath(), p.size, e.getMessage(), e.retryable()));
      }
    }
    if (conn.failure() == null) {
      sender.flush();
    }
    toHost.flush();
    for (Pending p : waits) {
      res[p.index] = done(listener, outcome(p));
    }
    return List.of(res);
  }

  private static boolean prefixMatches(Path file, long n, ByteString want) {
    try (FileChannel fc = FileChannel.open(file, StandardOpenOption.READ)) {
      MessageDigest md = Hashing.sha256();
      Hashing.update(md, fc, n, ByteBuffer.allocateDirect(1 << 20));
      return MessageDigest.isEqual(md.digest(), want.toByteArray());
    } catch (IOException e) {
      return false;
    }
  }

  // ---- pull --------------------------------------------------------------------------

  /** Fetches the files; one result per item, in order. */
  public List<TransferResult> pull(List<PullItem> items, TransferListener listener) {
    List<Pending> waits = new ArrayList<>();
    TransferResult[] res = new TransferResult[items.size()];
    int sinceFlush = 0;
    for (int i = 0; i < items.size(); i++) {
      PullItem it = items.get(i);
      if (cancelled || failure != null) {
        res[i] = done(listener, failed(it.local().toString(), it.size(), cancelled ? "cancelled" : failure, !cancelled && failureRetryable));
        continue;
      }
      long offset = 0;
      Path partial = BulkConnection.partialPath(it.local());
      try {
        if (it.ranges() == null && Files.isRegularFile(partial, LinkOption.NOFOLLOW_LINKS) && Files.size(partial) <= it.size()) {
          offset = Files.size(partial);
        }
      } catch (IOException e) {
        offset = 0;
      }
      int stream = nextStream.getAndIncrement();
      Pending p = new Pending(i, it.local().toString(), it.size());
      pending.put(stream, p);
      expected.put(stream, it.local());
      GetRequest.Builder g = GetRequest.newBuilder().setPath(it.remotePath()).setOffset(offset);
      if (it.ranges() != null) {
        for (FileRange r : it.ranges()) {
          g.addRanges(Range.newBuilder().setOffset(r.offset()).setLength(r.length()));
        }
        rangedSizes.put(stream, FileRange.total(it.ranges()));
      }
      boolean flush = ++sinceFlush >= 256;
      if (flush) {
        sinceFlush = 0;
      }
      conn.writeFrame(Frame.encode(conn.channel().alloc(), Frame.GET, stream, g.build().toByteArray()), flush);
      p.future.whenComplete(
          (v, t) -> {
            if (v != null && v.getOk()) {
              listener.bytes(v.getBytes());
            }
          });
      waits.add(p);
    }
    conn.flush();
    for (Pending p : waits) {
      res[p.index] = done(listener, outcome(p));
    }
    return List.of(res);
  }

  // ---- outcomes ------------------------------------------------------------------------

  private TransferResult outcome(Pending p) {
    long wait = client.config.stallTimeout().toMillis() * 4;
    try {
      Verdict v = p.future.get(wait, TimeUnit.MILLISECONDS);
      TransferMode mode = p.mode != null ? p.mode : TransferMode.of(v.getMode());
      if (v.getOk()) {
        client.counters.addPayload(mode, v.getBytes());
        client.counters.fileDone(mode);
        return new TransferResult(p.path, p.size, v.getBytes(), mode, false, null, false);
      }
      return failed(p.path, p.size, v.getError(), v.getRetryable());
    } catch (ExecutionException e) {
      BulkException b = e.getCause() instanceof BulkException x ? x : new BulkException(String.valueOf(e.getCause()), true);
      return failed(p.path, p.size, b.getMessage(), b.retryable());
    } catch (TimeoutException e) {
      failAll("no verdict from the host within " + wait / 1000 + " s", true);
      conn.abort();
      return failed(p.path, p.size, "no verdict from the host within " + wait / 1000 + " s", true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancel();
      return failed(p.path, p.size, "interrupted", false);
    }
  }

  private TransferResult failed(String path, long size, String error, boolean retryable) {
    client.counters.fileFailed();
    return new TransferResult(path, size, 0, null, false, error, retryable);
  }

  private static TransferResult done(TransferListener l, TransferResult r) {
    l.fileDone(r);
    return r;
  }

  private void complete(int stream, Verdict v) {
    Pending p = pending.remove(stream);
    if (p != null) {
      p.future.complete(v);
    }
  }

  private void failAll(String reason, boolean retryable) {
    if (failure == null) {
      failure = reason;
      failureRetryable = retryable;
    }
    for (Integer s : new ArrayList<>(pending.keySet())) {
      Pending p = pending.remove(s);
      if (p != null) {
        p.future.completeExceptionally(new BulkException(reason, retryable));
      }
    }
  }

  private void sendVerify(VerifyMessage m) {
    synchronized (this) {
      try {
        verifyOut.onNext(m);
      } catch (RuntimeException e) {
        failAll("control stream failed: " + e.getMessage(), true);
      }
    }
  }

  /**
   * Stops every transfer of this session. A push in progress sends CANCEL for its current
   * file, so the host deletes what it received of it; a pull closes the connection (the
   * partial files stay for a resume).
   */
  public void cancel() {
    cancelled = true;
    failAll("cancelled", false);
    if (conn != null && !pushing) {
      conn.close();
    }
  }

  /** Closes the bulk connection (after what was written), then the Verify stream. */
  @Override
  public void close() {
    if (conn != null) {
      conn.close();
    }
    if (verifyOut != null) {
      synchronized (this) {
        try {
          verifyOut.onCompleted();
        } catch (RuntimeException e) {
          // already failed
        }
      }
    }
  }

  /** Verify messages from the host: digests of files we pull, verdicts of files we push. */
  private final class VerifyIn implements StreamObserver<VerifyMessage> {
    @Override
    public void onNext(VerifyMessage batch) {
      VerifyBatch.each(batch, this::one);
    }

    private void one(VerifyMessage m) {
      if (m.hasDigest()) {
        Digest d = m.getDigest();
        if (conn != null) {
          conn.onDigest(m.getStreamId(), d);
        }
      } else if (m.hasVerdict()) {
        complete(m.getStreamId(), m.getVerdict());
      }
    }

    @Override
    public void onError(Throwable t) {
      Status s = Status.fromThrowable(t);
      failAll("control stream to the host lost: " + (s.getDescription() == null ? s.getCode() : s.getDescription()), true);
      if (conn != null) {
        conn.abort();
      }
    }

    @Override
    public void onCompleted() {
      failAll("the host ended the session", true);
    }
  }

  /** The workstation's half of the connection. */
  private final class ClientRole implements BulkConnection.Role {
    @Override
    public void control(BulkConnection c, Frame f) throws BulkException {
      if (f.type == Frame.HELLO_OK) {
        helloOk.complete(null);
        return;
      }
      throw new BulkException("unexpected " + Frame.typeName(f.type) + " from the host", false);
    }

    @Override
    public PermittedRoots.Target destination(int stream, FileHeader header) throws BulkException {
      Path p = expected.remove(stream);
      if (p == null) {
        throw new BulkException("the host sent stream " + stream + " which was not asked for", false);
      }
      Long ranged = rangedSizes.remove(stream);
      if (ranged != null && ranged != header.getSize()) {
        throw new BulkException("the host sent " + header.getSize() + " bytes of " + header.getPath() + " for ranges of "
            + ranged + " bytes (it predates ranged GETs)", false);
      }
      return new PermittedRoots.Target(p, true);
    }

    @Override
    public void verdict(int stream, Verdict verdict) {
      complete(stream, verdict);
      toHost.add(VerifyMessage.newBuilder().setStreamId(stream).setVerdict(verdict).build());
    }

    @Override
    public void idle() {
      toHost.flush();
    }

    @Override
    public void peerError(int stream, String message) {
      if (stream == 0) {
        failAll(message, false);
        helloOk.completeExceptionally(new BulkException(message, false));
      } else {
        complete(stream, Verdict.newBuilder().setOk(false).setError(message).setRetryable(message.endsWith(BulkConnection.RESEND)).build());
      }
    }

    @Override
    public void closed(String reason) {
      String why = reason == null ? "bulk connection closed" : reason;
      helloOk.completeExceptionally(new BulkException(why, true));
      failAll(why, true);
    }
  }
}
