package dev.thunderlink.transport.bulk.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.thunderlink.proto.bulk.Digest;
import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.GetRequest;
import dev.thunderlink.proto.bulk.Hello;
import dev.thunderlink.proto.bulk.Range;
import dev.thunderlink.proto.bulk.Verdict;
import dev.thunderlink.proto.bulk.VerifyMessage;
import dev.thunderlink.transport.bulk.BulkException;
import dev.thunderlink.transport.bulk.FileRange;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's half of a bulk connection: admits it on a valid ticket, writes pushed files
 * under the permitted roots, and serves GETs from a sender thread of its own.
 *
 * <p>Event-loop callbacks as in {@link BulkConnection.Role}; GETs run in order on the
 * connection's sender thread. {@code session} is written once on the event loop before
 * any file frame is accepted.
 */
public final class HostRole implements BulkConnection.Role {
  private static final Logger log = LoggerFactory.getLogger(HostRole.class);

  private final HostSessions sessions;
  private final PermittedRoots roots;
  private final boolean encrypted;
  private volatile String peerFingerprint;
  private volatile HostSessions.Session session;
  private ExecutorService sender;
  private final dev.thunderlink.transport.bulk.StagedFileListener staged;

  private final java.util.function.Predicate<String> paired;

  public HostRole(HostSessions sessions, PermittedRoots roots, boolean encrypted) {
    this(sessions, roots, encrypted, null, fp -> true);
  }

  /**
   * @param staged told of each staged push verified on this connection (null: nobody)
   * @param paired whether a workstation's fingerprint is still paired, asked when its ticket is
   *     redeemed: a ticket issued just before an {@code unpair} opens nothing after it
   */
  public HostRole(HostSessions sessions, PermittedRoots roots, boolean encrypted,
      dev.thunderlink.transport.bulk.StagedFileListener staged, java.util.function.Predicate<String> paired) {
    this.sessions = sessions;
    this.roots = roots;
    this.encrypted = encrypted;
    this.staged = staged;
    this.paired = paired;
  }

  @Override
  public dev.thunderlink.transport.bulk.StagedFileListener stagedListener() {
    return staged;
  }

  /** Whether a HELLO admitted the connection. */
  public boolean admitted() {
    return session != null;
  }

  /** The paired workstation this connection serves: its TLS certificate's, else its session's (null: not yet known). */
  public String clientFingerprint() {
    HostSessions.Session s = session;
    return s != null ? s.fingerprint : peerFingerprint;
  }

  /** The TLS peer's fingerprint once its handshake succeeded. */
  public void peerFingerprint(String fp) {
    peerFingerprint = fp;
  }

  @Override
  public void control(BulkConnection c, Frame f) throws BulkException {
    if (f.type == Frame.HELLO) {
      if (session != null) {
        throw new BulkException("second HELLO on one connection", false);
      }
      Hello h;
      try {
        h = Hello.parseFrom(f.payload.nioBuffer());
      } catch (InvalidProtocolBufferException e) {
        throw new BulkException("unreadable HELLO: " + e.getMessage(), false);
      }
      HostSessions.Session redeemed = sessions.redeem(h.getSessionId(), h.getTicket().toByteArray(), encrypted, peerFingerprint, c);
      if (!paired.test(redeemed.fingerprint)) {
        throw new BulkException("bulk connection refused: this workstation is no longer paired with the host", false);
      }
      session = redeemed;
      c.digest(session.digest);
      c.authenticated();
      c.writeFrame(Frame.encode(c.channel().alloc(), Frame.HELLO_OK, 0, new byte[0]), true);
      return;
    }
    if (f.type == Frame.GET) {
      GetRequest g;
      try {
        g = GetRequest.parseFrom(f.payload.nioBuffer());
      } catch (InvalidProtocolBufferException e) {
        throw new BulkException("unreadable GET: " + e.getMessage(), false);
      }
      int stream = f.stream;
      synchronized (this) {
        if (sender == null) {
          sender =
              Executors.newSingleThreadExecutor(
                  r -> {
                    Thread t = new Thread(r, "thunderlink-bulk-send-" + c.channel().id().asShortText());
                    t.setDaemon(true);
                    return t;
                  });
        }
      }
      pendingGets.incrementAndGet();
      try {
        sender.execute(() -> serve(c, stream, g));
      } catch (RejectedExecutionException e) {
        pendingGets.decrementAndGet(); // closing
      }
      return;
    }
    throw new BulkException("unexpected " + Frame.typeName(f.type) + " from the client", false);
  }

  /** Used on the sender thread only. */
  private FileSender fileSender;

  private void serve(BulkConnection c, int stream, GetRequest g) {
    try {
      serveOne(c, stream, g);
    } finally {
      if (pendingGets.decrementAndGet() == 0) {
        session.flushToClient();
      }
    }
  }

  private void serveOne(BulkConnection c, int stream, GetRequest g) {
    if (c.failure() != null) {
      return;
    }
    if (fileSender == null) {
      fileSender = new FileSender(c);
    }
    try {
      Path p = roots.resolve(g.getPath());
      FileSender.Outcome o =
          fileSender.send(stream, p, g.getPath(), g.getOffset(), ranges(g), n -> {}, () -> c.failure() != null);
      fileSender.flush();
      c.counters().addPayload(o.mode(), o.sentBytes());
      session.batchToClient(VerifyMessage.newBuilder().setStreamId(stream).setDigest(o.digest()).build());
    } catch (BulkException e) {
      if (!e.retryable()) {
        fileSender.flush();
        c.sendError(stream, e.getMessage());
        session.batchToClient(
            VerifyMessage.newBuilder()
                .setStreamId(stream)
                .setDigest(Digest.newBuilder().setAbort(e.getMessage()))
                .build());
      }
    }
  }

  /** The ranges a GET asks for, or null for the whole file (from its offset). */
  private static List<FileRange> ranges(GetRequest g) throws BulkException {
    if (g.getRangesCount() == 0) {
      return null;
    }
    if (g.getOffset() != 0) {
      throw new BulkException("GET " + g.getPath() + ": ranges and an offset (expected: one or the other)", false);
    }
    List<FileRange> out = new ArrayList<>(g.getRangesCount());
    try {
      for (Range r : g.getRangesList()) {
        out.add(new FileRange(r.getOffset(), r.getLength()));
      }
    } catch (IllegalArgumentException e) {
      throw new BulkException("GET " + g.getPath() + ": " + e.getMessage(), false);
    }
    return out;
  }

  /** GETs queued or running on the sender thread; the last one flushes the digests. */
  private final java.util.concurrent.atomic.AtomicInteger pendingGets = new java.util.concurrent.atomic.AtomicInteger();

  @Override
  public PermittedRoots.Target destination(int stream, FileHeader header) throws BulkException {
    return roots.destination(header.getPath());
  }

  @Override
  public void verdict(int stream, Verdict verdict) {
    session.batchToClient(VerifyMessage.newBuilder().setStreamId(stream).setVerdict(verdict).build());
  }

  @Override
  public void idle() {
    HostSessions.Session s = session;
    if (s != null) {
      s.flushToClient();
    }
  }

  @Override
  public void peerError(int stream, String message) {
    log.info("bulk: the workstation reports for stream {}: {}", stream, message);
  }

  @Override
  public void closed(String reason) {
    ExecutorService s;
    synchronized (this) {
      s = sender;
    }
    if (s != null) {
      s.shutdownNow();
    }
    if (session != null) {
      sessions.remove(session.id);
    }
  }
}
