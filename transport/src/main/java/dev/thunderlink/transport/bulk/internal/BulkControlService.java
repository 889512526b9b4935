package dev.thunderlink.transport.bulk.internal;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.bulk.BulkControlGrpc;
import dev.thunderlink.proto.bulk.DigestAlgorithm;
import dev.thunderlink.proto.bulk.FileEntry;
import dev.thunderlink.proto.bulk.ListRequest;
import dev.thunderlink.proto.bulk.MakeEntry;
import dev.thunderlink.proto.bulk.MakeRequest;
import dev.thunderlink.proto.bulk.MakeResponse;
import dev.thunderlink.proto.bulk.MakeResult;
import dev.thunderlink.proto.bulk.OpenSessionRequest;
import dev.thunderlink.proto.bulk.OpenSessionResponse;
import dev.thunderlink.proto.bulk.StatRequest;
import dev.thunderlink.proto.bulk.StatResponse;
import dev.thunderlink.proto.bulk.VerifyMessage;
import dev.thunderlink.transport.PeerContext;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkException;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFileAttributes;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's BulkControl gRPC service: sessions and tickets, Stat and List for planning,
 * and the Verify stream that carries digests and verdicts. Registered on the link server,
 * whose interceptor has already required a pinned peer.
 *
 * <p>Runs on gRPC's executor; state lives in the thread-safe {@link HostSessions}.
 */
public final class BulkControlService extends BulkControlGrpc.BulkControlImplBase {
  private static final Logger log = LoggerFactory.getLogger(BulkControlService.class);

  private final BulkConfig config;
  private final HostSessions sessions;
  private final PermittedRoots roots;

  public BulkControlService(BulkConfig config, HostSessions sessions, PermittedRoots roots) {
    this.config = config;
    this.sessions = sessions;
    this.roots = roots;
  }

  @Override
  public void openSession(OpenSessionRequest req, StreamObserver<OpenSessionResponse> out) {
    String fp = PeerContext.fingerprint();
    if (fp == null) {
      out.onError(Status.UNAUTHENTICATED.withDescription("bulk sessions need a paired peer").asRuntimeException());
      return;
    }
    boolean plain = req.getPlaintext() && config.plaintextOnThunderbolt();
    BulkConfig.DigestChoice client = clientChoice(req.getDigest());
    boolean sha = client.wantsSha256(!plain) || config.digest().wantsSha256(!plain);
    DigestAlgorithm digest = sha ? DigestAlgorithm.DIGEST_ALGORITHM_SHA256 : DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128;
    HostSessions.Session s = sessions.create(fp, plain, digest);
    out.onNext(
        OpenSessionResponse.newBuilder()
            .setSessionId(s.id)
            .setTicket(ByteString.copyFrom(s.ticket()))
            .setPlaintextAllowed(plain)
            .setMaxFrameBytes(config.maxFrameBytes())
            .setDigest(digest)
            .build());
    out.onCompleted();
  }

  private static BulkConfig.DigestChoice clientChoice(DigestAlgorithm a) {
    switch (a) {
      case DIGEST_ALGORITHM_SHA256:
        return BulkConfig.DigestChoice.SHA256;
      case DIGEST_ALGORITHM_XXH3_128:
        return BulkConfig.DigestChoice.XXH3_128;
      default:
        return BulkConfig.DigestChoice.AUTO;
    }
  }

  @Override
  public void stat(StatRequest req, StreamObserver<StatResponse> out) {
    StatResponse.Builder b = StatResponse.newBuilder();
    for (String p : req.getPathsList()) {
      b.addEntries(statOne(p));
    }
    out.onNext(b.build());
    out.onCompleted();
  }

  /**
   * One path's stat for the workstation: whether something is there, what, its size, mtime and
   * executable bit, and a partial file of an earlier transfer to resume from. Three cheap system
   * calls for a file that is there (access, one lstat with the mode, access for the partial)
   * and no thrown exception when there is no partial, the usual case: it was access, two
   * lstats, a stat and a failed lstat, ~16 us a file, most of re-copying a 20,000-file tree
   * that was already identical.
   */
  private FileEntry statOne(String requested) {
    FileEntry.Builder e = FileEntry.newBuilder().setPath(requested);
    try {
      PermittedRoots.Target t = roots.target(requested);
      Path p = t.path();
      e.setPath(p.toString());
      // a link to nothing is something too (access(2) follows links; the lstat does not)
      if (t.exists() || Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        describe(p, e);
      }
      Path partial = BulkConnection.partialPath(p);
      if (Files.exists(partial) && Files.isRegularFile(partial, LinkOption.NOFOLLOW_LINKS)) {
        describePartial(p, partial, Files.size(partial), e);
      }
    } catch (BulkException ex) {
      e.setError(ex.getMessage());
    } catch (IOException ex) {
      e.setError("cannot read " + requested + " on the host: " + ex.getMessage());
    }
    return e.build();
  }

  /**
   * Adds the partial file's first {@code n} bytes (its size when looked at) and their SHA-256,
   * for a resume; when it has shrunk or gone meanwhile, another transfer writes it (the
   * workstation's other copy to the same path): the entry gets an error saying so instead.
   */
  static void describePartial(Path p, Path partial, long n, FileEntry.Builder e) {
    MessageDigest md = Hashing.sha256();
    try (FileChannel fc = FileChannel.open(partial, StandardOpenOption.READ)) {
      Hashing.update(md, fc, n, ByteBuffer.allocateDirect(1 << 20));
    } catch (IOException changed) {
      e.setError("cannot resume " + p + " on the host: its partial file changed while it was read"
          + " (is another copy to the same path running?)");
      return;
    }
    e.setPartialBytes(n).setPartialSha256(ByteString.copyFrom(md.digest()));
  }

  /** Fills in what is at {@code p} (not following a link), from one lstat where the file system has POSIX modes. */
  private static void describe(Path p, FileEntry.Builder e) throws IOException {
    BasicFileAttributes a;
    boolean exec;
    try {
      PosixFileAttributes px = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      a = px;
      exec = px.isRegularFile() && px.permissions().contains(PosixFilePermission.OWNER_EXECUTE);
    } catch (UnsupportedOperationException u) {
      a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      exec = a.isRegularFile() && FileSender.isExecutable(p);
    } catch (java.nio.file.NoSuchFileException gone) {
      return; // gone since it was seen
    }
    e.setExists(true)
        .setDirectory(a.isDirectory())
        .setSize(a.isRegularFile() ? a.size() : 0)
        .setMtimeMillis(a.lastModifiedTime().toMillis())
        .setExecutable(exec);
  }

  @Override
  public void make(MakeRequest req, StreamObserver<MakeResponse> out) {
    MakeResponse.Builder b = MakeResponse.newBuilder();
    for (MakeEntry m : req.getEntriesList()) {
      b.addResults(makeOne(m));
    }
    out.onNext(b.build());
    out.onCompleted();
  }

  private MakeResult makeOne(MakeEntry m) {
    MakeResult.Builder r = MakeResult.newBuilder();
    try {
      Path p = roots.resolve(m.getPath());
      if (m.getSymlinkTarget().isEmpty()) {
        if (Files.isDirectory(p)) {
          r.setExisted(true); // a real directory, or a link to one that resolve() found inside the roots
        } else if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
          r.setError("cannot create directory " + p + " on the host: it exists and is not a directory");
        } else {
          Files.createDirectories(p);
        }
      } else {
        roots.checkLinkTarget(p, m.getSymlinkTarget());
        r.setExisted(Symlinks.place(p, m.getSymlinkTarget()));
      }
    } catch (BulkException e) {
      r.setError(e.getMessage());
    } catch (IOException e) {
      r.setError("cannot create " + m.getPath() + " on the host: " + e.getMessage());
    }
    return r.build();
  }

  @Override
  public void list(ListRequest req, StreamObserver<FileEntry> out) {
    Path root;
    try {
      root = roots.resolve(req.getPath());
    } catch (BulkException e) {
      out.onError(Status.PERMISSION_DENIED.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      out.onError(Status.NOT_FOUND.withDescription("no such file or directory on the host: " + root).asRuntimeException());
      return;
    }
    try {
      if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
        FileEntry.Builder e = FileEntry.newBuilder().setPath("");
        describe(root, e);
        out.onNext(e.build());
      } else {
        FileEntry.Builder top = FileEntry.newBuilder().setPath("");
        describe(root, top);
        out.onNext(top.build());
        List<Path> all;
        try (Stream<Path> s = Files.walk(root)) {
          all = s.filter(p -> !p.equals(root)).sorted(Comparator.naturalOrder()).collect(Collectors.toList());
        }
        for (Path p : all) {
          String name = p.getFileName().toString();
          if (name.endsWith(".tlpart") || name.endsWith(".tlpart-link")) {
            continue;
          }
          FileEntry.Builder e = FileEntry.newBuilder().setPath(root.relativize(p).toString().replace('\\', '/'));
          describe(p, e);
          if (Files.isSymbolicLink(p)) {
            // reported, never followed: the workstation decides whether it stays inside the tree
            e.setSymlinkTarget(Files.readSymbolicLink(p).toString());
          }
          out.onNext(e.build());
        }
      }
      out.onCompleted();
    } catch (IOException | java.io.UncheckedIOException e) {
      out.onError(Status.INTERNAL.withDescription("cannot list " + root + " on the host: " + e.getMessage()).asRuntimeException());
    }
  }

  @Override
  public StreamObserver<VerifyMessage> verify(StreamObserver<VerifyMessage> out) {
    String fp = PeerContext.fingerprint();
    return new StreamObserver<>() {
      HostSessions.Session session;

      @Override
      public void onNext(VerifyMessage m) {
        if (session == null) {
          HostSessions.Session s = sessions.get(m.getSessionId());
          if (s == null || fp == null || !fp.equalsIgnoreCase(s.fingerprint)) {
            out.onError(Status.PERMISSION_DENIED.withDescription("unknown bulk session").asRuntimeException());
            return;
          }
          session = s;
          s.attachVerify(out);
          return;
        }
        VerifyBatch.each(m, this::one);
      }

      private void one(VerifyMessage m) {
        if (m.hasDigest()) {
          BulkConnection c = session.connection();
          if (c != null) {
            c.onDigest(m.getStreamId(), m.getDigest());
          }
        } else if (m.hasVerdict() && !m.getVerdict().getOk()) {
          log.info("bulk: the workstation could not take stream {}: {}", m.getStreamId(), m.getVerdict().getError());
        }
      }

      @Override
      public void onError(Throwable t) {
        // the control path died: the session cannot be verified any more
        BulkConnection c = session == null ? null : session.connection();
        if (c != null) {
          c.abort();
        }
        if (session != null) {
          session.endVerify(false);
        }
        end();
      }

      @Override
      public void onCompleted() {
        // a clean end: the client closes the bulk connection itself, after its last frame
        end();
        if (session != null) {
          session.endVerify(true);
        } else {
          out.onCompleted();
        }
      }

      private void end() {
        if (session != null) {
          sessions.remove(session.id);
        }
      }
    };
  }
}
