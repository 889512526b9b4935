package dev.thunderlink.transport.bulk.internal;

import dev.thunderlink.proto.bulk.DigestAlgorithm;
import dev.thunderlink.proto.bulk.VerifyMessage;
import dev.thunderlink.transport.bulk.BulkException;
import io.grpc.stub.StreamObserver;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The host's bulk sessions: created over the authenticated control plane with a one-time
 * ticket, bound to one bulk connection when the ticket is redeemed (within a minute, once,
 * by the same device), and to one Verify stream.
 *
 * <p>Thread-safe: the map is concurrent; each session guards its own fields with itself.
 */
public final class HostSessions {
  private static final long TICKET_LIFETIME_MILLIS = 60_000;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();

  /** One session. */
  public static final class Session {
    public final String id;
    public final String fingerprint;
    public final boolean plaintextGranted;
    /** The content hash the session's files are verified with. */
    public final DigestAlgorithm digest;
    private final byte[] ticket;
    private final long expiresAt;
    private boolean redeemed;
    private BulkConnection conn;
    private StreamObserver<VerifyMessage> toClient;
    private final List<VerifyMessage> queued = new ArrayList<>();
    private boolean verifyDone;
    /** Verdicts and digests for the client, sent in batches. */
    final VerifyBatch toClientBatch = new VerifyBatch(this::sendToClient);

    Session(String id, byte[] ticket, String fingerprint, boolean plaintextGranted, DigestAlgorithm digest, long expiresAt) {
      this.id = id;
      this.digest = digest;
      this.ticket = ticket;
      this.fingerprint = fingerprint;
      this.plaintextGranted = plaintextGranted;
      this.expiresAt = expiresAt;
    }

    public byte[] ticket() {
      return ticket.clone();
    }

    public synchronized BulkConnection connection() {
      return conn;
    }

    synchronized void attach(BulkConnection c) {
      conn = c;
    }

    /** Binds the Verify stream; messages sent before are delivered now. */
    public synchronized void attachVerify(StreamObserver<VerifyMessage> out) {
      toClient = out;
      for (VerifyMessage m : queued) {
        out.onNext(m);
      }
      queued.clear();
    }

    /** Queues for the next batch to the client; {@link #flushToClient()} sends it. Any thread. */
    public void batchToClient(VerifyMessage m) {
      toClientBatch.add(m);
    }

    /** Sends the batched messages. Any thread. */
    public void flushToClient() {
      toClientBatch.flush();
    }

    /** Sends on the Verify stream (queued until it is bound). Any thread. */
    public synchronized void sendToClient(VerifyMessage m) {
      if (verifyDone) {
        return;
      }
      if (toClient == null) {
        queued.add(m);
        return;
      }
      if (toClient instanceof io.grpc.stub.ServerCallStreamObserver<VerifyMessage> o && o.isCancelled()) {
        verifyDone = true;
        return;
      }
      try {
        toClient.onNext(m);
      } catch (RuntimeException e) {
        verifyDone = true; // the stream is gone; the connection's close reports the failure
      }
    }

    /** Ends the Verify stream; nothing is sent on it afterwards. Any thread. */
    public synchronized void endVerify(boolean complete) {
      if (verifyDone) {
        return;
      }
      verifyDone = true;
      if (complete && toClient != null) {
        try {
          toClient.onCompleted();
        } catch (RuntimeException e) {
          // already closed
        }
      }
    }
  }

  public Session create(String fingerprint, boolean plaintextGranted) {
    return create(fingerprint, plaintextGranted, DigestAlgorithm.DIGEST_ALGORITHM_SHA256);
  }

  public Session create(String fingerprint, boolean plaintextGranted, DigestAlgorithm digest) {
    long now = System.currentTimeMillis();
    sessions.values().removeIf(s -> s.connection() == null && s.expiresAt < now);
    byte[] id = new byte[12];
    byte[] ticket = new byte[32];
    random.nextBytes(id);
    random.nextBytes(ticket);
    Session s = new Session(HexFormat.of().formatHex(id), ticket, fingerprint, plaintextGranted, digest, now + TICKET_LIFETIME_MILLIS);
    sessions.put(s.id, s);
    return s;
  }

  public Session get(String id) {
    return sessions.get(id);
  }

  /**
   * Admits a bulk connection. {@code peerFingerprint} is the TLS client's (null on plaintext).
   */
  public Session redeem(String id, byte[] ticket, boolean encrypted, String peerFingerprint, BulkConnection c)
      throws BulkException {
    Session s = sessions.get(id);
    if (s == null) {
      throw new BulkException("bulk connection refused: unknown session", false);
    }
    synchronized (s) {
      if (s.redeemed || System.currentTimeMillis() > s.expiresAt) {
        throw new BulkException("bulk connection refused: the ticket was used already or expired", false);
      }
      if (!MessageDigest.isEqual(s.ticket, ticket)) {
        throw new BulkException("bulk connection refused: wrong ticket", false);
      }
      if (!encrypted && !s.plaintextGranted) {
        throw new BulkException("bulk connection refused: plaintext was not granted for this session", false);
      }
      if (encrypted && (peerFingerprint == null || !peerFingerprint.equalsIgnoreCase(s.fingerprint))) {
        throw new BulkException("bulk connection refused: the TLS certificate is not the session owner's", false);
      }
      s.redeemed = true;
      s.attach(c);
    }
    return s;
  }

  public void remove(String id) {
    sessions.remove(id);
  }

  public int size() {
    return sessions.size();
  }
}
