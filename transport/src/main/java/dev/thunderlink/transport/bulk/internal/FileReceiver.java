package dev.thunderlink.transport.bulk.internal;

import dev.thunderlink.proto.bulk.Digest;
import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.Verdict;
import dev.thunderlink.transport.bulk.BulkCounters;
import dev.thunderlink.transport.bulk.StagedFileListener;
import dev.thunderlink.transport.bulk.TransferMode;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.Set;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Receives one file of one stream into a temporary file beside the destination and, once
 * both the last byte and the sender's digest (from the control plane) are in and agree,
 * renames it over the destination with the sender's executable bit and mtime (or, when the
 * header asks to {@code stage} it, leaves it verified under its temporary name). On any
 * failure the temporary file is deleted, so the destination name never holds a partial or
 * unverified file. When the connection is lost the temporary file is kept as the partial
 * of a later resume.
 *
 * <p>A staged file with a {@link StagedFileListener} is also hashed with SHA-256 as it is
 * written (the session's digest already is SHA-256 under TLS; under XXH3-128 a second hash
 * runs beside it), and the listener is told once it is verified: the host's mirror then trusts
 * that hash instead of reading the copy again to hash it.
 *
 * <p>Runs on one of its connection's disk threads, but for {@link #fence}, which a transfer on
 * another connection calls when it takes the partial file over (see {@link PartialWriters}).
 */
final class FileReceiver {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FileReceiver.class);
  private static final LZ4SafeDecompressor LZ4 = LZ4Factory.fastestInstance().safeDecompressor();

  final int stream;
  final FileHeader header;
  final Path dest;
  final Path temp;
  /**
   * Whether something may be at {@link #dest} already (false: nothing was, or nobody looked; a
   * directory in the way then fails the rename, unless the file is large enough to look first).
   */
  private final boolean destMayExist;
  /**
   * From this size a directory in the way is looked for before the bytes come, whatever {@link
   * #destMayExist} says: its stat costs nothing beside them, and they are not sent in vain.
   */
  static final long LOOK_FIRST_BYTES = 1 << 20;
  private final BulkCounters counters;
  private final Hashing.Content md;
  /** Told of the verified file (a staged push on a host that wants it), or null. */
  private final StagedFileListener staged;
  /**
   * SHA-256 of the bytes written, beside {@link #md} when that is XXH3-128, for {@link
   * #staged}; null when {@code md} is SHA-256 itself, or when nothing will be told (no
   * listener, or a resumed transfer, whose kept bytes only {@code md} went over).
   */
  private final Hashing.Content sha;
  private FileChannel out;
  private long position;
  private long wire;
  private boolean ended;
  private Digest digest;
  private final Scratch scratch;
  /** The connection this transfer runs on (its age decides who writes a partial file). */
  final PartialWriters.Connection connection;
  /**
   * A newer transfer of the same file took its partial file over, or this one came after it:
   * nothing more is written, renamed or deleted. Guarded by this.
   */
  private boolean fenced;

  FileReceiver(int stream, FileHeader header, Path dest, boolean destMayExist, BulkCounters counters, Scratch scratch) {
    this(stream, header, dest, destMayExist, counters, scratch, null);
  }

  FileReceiver(int stream, FileHeader header, Path dest, boolean destMayExist, BulkCounters counters, Scratch scratch,
      StagedFileListener staged) {
    this(stream, header, dest, destMayExist, counters, scratch, staged, PartialWriters.standalone());
  }

  /**
   * @param staged told of the verified file if the header stages it (null: nobody)
   * @param connection the connection it runs on
   */
  FileReceiver(int stream, FileHeader header, Path dest, boolean destMayExist, BulkCounters counters, Scratch scratch,
      StagedFileListener staged, PartialWriters.Connection connection) {
    this.stream = stream;
    this.connection = connection;
    this.header = header;
    this.dest = dest;
    this.destMayExist = destMayExist;
    this.temp = partialPath(dest);
    this.counters = counters;
    this.md = Hashing.content(header.getDigest());
    this.scratch = scratch;
    this.staged = header.getStage() && staged != null && header.getSize() <= staged.largestUseful() ? staged : null;
    this.sha = this.staged != null && Hashing.isXxh3(md.algorithm()) && header.getOffset() == 0
        ? Hashing.content(dev.thunderlink.proto.bulk.DigestAlgorithm.DIGEST_ALGORITHM_SHA256) : null;
  }

  /**
   * The decompression buffer of one disk thread of a connection, shared by all the receivers
   * on it (they run one block at a time). One per file cost 64 KiB each: a tree of 20,000
   * small files allocated 1.3 GB for it. Not thread-safe.
   */
  static final class Scratch {
    private byte[] block;
    private int allocations;

    /** A buffer of at least {@code bytes}, reused while it is large enough. */
    byte[] block(int bytes) {
      if (block == null || block.length < bytes) {
        block = new byte[Math.max(bytes, 64 * 1024)];
        allocations++;
      }
      return block;
    }

    /** How many buffers were allocated (tests). */
    int allocations() {
      return allocations;
    }
  }

  /**
   * The kept bytes a resume starts from are gone (another transfer of the same file, e.g. the
   * tail of a connection lost just before, replaced them): sending the whole file again works.
   */
  static final class ResumeGone extends IOException {
    private static final long serialVersionUID = 1L;

    ResumeGone(String message) {
      super(message);
    }
  }

  /** Where the bytes of a transfer to {@code dest} collect: hidden, same directory. */
  static Path partialPath(Path dest) {
    return dest.resolveSibling("." + dest.getFileName() + ".tlpart");
  }

  synchronized void open() throws IOException {
    if (!PartialWriters.ALL.claim(this)) {
      fenced = true; // the newer transfer's file: not ours to delete either
      throw new IOException("a transfer on a newer connection is writing it; this connection was superseded");
    }
    if ((destMayExist || header.getSize() - header.getOffset() >= LOOK_FIRST_BYTES) && Files.isDirectory(dest)) {
      throw new IOException(isADirectory());
    }
    long offset = header.getOffset();
    if (offset == 0 && openFresh()) {
      position = 0;
      return;
    }
    try {
      out = FileChannel.open(temp, REUSE);
    } catch (java.nio.file.NoSuchFileException e) {
      // the directory is not there yet (a tree's directories are usually made first)
      Files.createDirectories(dest.getParent());
      out = FileChannel.open(temp, REUSE);
    } catch (IOException e) { // ELOOP: the JDK throws a plain IOException for O_NOFOLLOW on a link
      if (!Files.isSymbolicLink(temp)) {
        throw e;
      }
      // a link planted at the partial file's name: never written through (it may point outside
      // the permitted roots); the name is ours, so a new transfer replaces the link
      if (offset > 0) {
        throw new ResumeGone("cannot resume " + dest + " at byte " + offset + ": its partial file " + temp
            + " is a symbolic link");
      }
      Files.delete(temp);
      if (!openFresh()) {
        throw new IOException("cannot write " + dest + ": its partial file " + temp + " reappeared");
      }
      position = 0;
      return;
    }
    if (offset > 0) {
      long have = out.size();
      if (have < offset) {
        throw new ResumeGone("cannot resume " + dest + " at byte " + offset + ": only " + have + " bytes were kept");
      }
      Hashing.update(md, out, offset, ByteBuffer.allocateDirect(256 * 1024));
      counters.resumed(offset);
    }
    out.truncate(offset);
    out.position(offset);
    position = offset;
  }

  /**
   * Creates the temporary file new, already with the sender's executable bit (rwx or rw- for
   * all, less the umask, as a new file gets: what {@link #applyMetadata} would set), so that
   * installing it needs no stat and chmod, and an empty new file no truncate. False when a
   * temporary file of an earlier transfer is in the way: the caller reuses and truncates it.
   */
  private boolean openFresh() throws IOException {
    FileAttribute<Set<PosixFilePermission>> mode = header.getExecutable() ? ALL_RWX : ALL_RW;
    try {
      try {
        out = FileChannel.open(temp, FRESH, mode);
      } catch (java.nio.file.NoSuchFileException e) {
        Files.createDirectories(dest.getParent());
        out = FileChannel.open(temp, FRESH, mode);
      }
    } catch (java.nio.file.FileAlreadyExistsException e) {
      return false;
    } catch (UnsupportedOperationException e) {
      return false; // no POSIX modes here
    }
    fresh = true;
    return true;
  }

  /** A partial file kept from an earlier transfer: never through a symbolic link (O_NOFOLLOW). */
  private static final Set<java.nio.file.OpenOption> REUSE = Set.of(StandardOpenOption.CREATE,
      StandardOpenOption.WRITE, StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS);
  private static final Set<StandardOpenOption> FRESH =
      EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
  /** Made once: asFileAttribute copies its set into a new one each time (8 % of the disk thread's Java samples in a push of 20,000 files). */
  private static final FileAttribute<Set<PosixFilePermission>> ALL_RW = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-"));
  private static final FileAttribute<Set<PosixFilePermission>> ALL_RWX = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxrwx"));
  /** The temporary file was created by this transfer with its final mode (see {@link #openFresh}). */
  private boolean fresh;

  /** Raw bytes or one LZ4 block; the buffer is released by the caller. Dropped once fenced. */
  synchronized void data(byte type, ByteBuf buf) throws IOException {
    if (fenced) {
      return; // the connection is being closed: its newer one writes the file
    }
    if (position + payloadSize(type, buf) > header.getSize()) {
      throw new IOException(
          "the sender sent more than the announced " + header.getSize() + " bytes for " + dest);
    }
    wire += buf.readableBytes();
    if (type == Frame.DATA_RAW) {
      ByteBuffer[] parts = buf.nioBuffers();
      for (ByteBuffer p : parts) {
        md.update(p.duplicate());
        if (sha != null) {
          sha.update(p.duplicate());
        }
      }
      long n = buf.readableBytes();
      long written = 0;
      while (written < n) {
        written += out.write(parts);
      }
      position += n;
    } else {
      int raw = buf.readInt();
      boolean stored = buf.readByte() == 0;
      ByteBuffer src = buf.nioBuffer();
      if (stored) {
        if (src.remaining() != raw) {
          throw new IOException("bad LZ4 frame for " + dest + ": stored block of " + src.remaining() + " bytes, announced " + raw);
        }
        md.update(src.duplicate());
        if (sha != null) {
          sha.update(src.duplicate());
        }
        while (src.hasRemaining()) {
          out.write(src);
        }
      } else {
        if (raw > BulkConfigLimits.MAX_LZ4_BLOCK || raw < 0) {
          throw new IOException("bad LZ4 frame for " + dest + ": block of " + raw + " bytes");
        }
        byte[] block = scratch.block(raw);
        int n;
        try {
          n = LZ4.decompress(src, src.position(), src.remaining(), ByteBuffer.wrap(block), 0, raw);
        } catch (net.jpountz.lz4.LZ4Exception e) {
          throw new IOException("corrupt LZ4 block for " + dest + ": " + e.getMessage());
        }
        if (n != raw) {
          throw new IOException("bad LZ4 block for " + dest + ": " + n + " bytes, announced " + raw);
        }
        md.update(block, 0, raw);
        if (sha != null) {
          sha.update(block, 0, raw);
        }
        ByteBuffer w = ByteBuffer.wrap(block, 0, raw);
        while (w.hasRemaining()) {
          out.write(w);
        }
      }
      position += raw;
    }
  }

  private static long payloadSize(byte type, ByteBuf buf) {
    return type == Frame.DATA_RAW ? buf.readableBytes() : buf.getInt(buf.readerIndex());
  }

  void end() {
    ended = true;
  }

  void digest(Digest d) {
    digest = d;
  }

  /** True when both the end and the digest are in. */
  boolean ready() {
    return ended && digest != null;
  }

  boolean hasDigest() {
    return digest != null;
  }

  /** Verifies and installs; returns the verdict (the temp file is gone either way, unless fenced). */
  synchronized Verdict finish() {
    TransferMode mode = TransferMode.of(header.getMode());
    try {
      if (fenced) {
        return fail("a transfer of " + dest + " on a newer connection took it over");
      }
      if (!digest.getAbort().isEmpty()) {
        return fail(digest.getAbort());
      }
      out.close();
      if (position != header.getSize() || digest.getSize() != header.getSize()) {
        return fail(
            "size mismatch for " + dest + ": received " + position + " bytes, the sender announced "
                + header.getSize() + " and hashed " + digest.getSize());
      }
      byte[] got = md.finish();
      byte[] want = Hashing.value(digest, md.algorithm()).toByteArray();
      if (!MessageDigest.isEqual(got, want)) {
        if (header.getDigestExpected() && want.length > 0) {
          return fail("content of " + dest + " is not what the sender scanned (" + Hashing.shortHex(got) + "… instead of "
              + Hashing.shortHex(want) + "…, SHA-256): the source changed since; nothing was written");
        }
        return fail(
            "content hash mismatch for " + dest + ": received " + Hashing.shortHex(got) + "…, the sender hashed "
                + (want.length == 0 ? "nothing" : Hashing.shortHex(want) + "…") + " (" + Hashing.name(md.algorithm())
                + "); nothing was written");
      }
      applyMetadata();
      if (staged != null) {
        tell(Hashing.isXxh3(md.algorithm()) ? (sha == null ? null : sha.finish()) : got);
      }
      if (!header.getStage()) { // staged: the sender's caller renames the partial file into place itself
        try {
          Files.move(temp, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(temp, dest, StandardCopyOption.REPLACE_EXISTING);
        }
      }
      long sent = header.getSize() - header.getOffset();
      counters.addPayload(mode, sent);
      counters.addWire(mode, wire);
      counters.fileDone(mode);
      PartialWriters.ALL.release(this);
      return Verdict.newBuilder().setOk(true).setBytes(sent).setMode(header.getMode()).build();
    } catch (IOException e) {
      if (Files.isDirectory(dest, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        return fail("cannot write " + dest + ": " + isADirectory()); // as when looked for first
      }
      return fail("cannot install " + dest + ": " + e.getMessage());
    }
  }

  /** Tells {@link #staged} of the verified copy, if its SHA-256 is known; a listener's failure is only logged. */
  private void tell(byte[] sha256) {
    if (sha256 == null) {
      return;
    }
    try {
      staged.verified(temp, header.getSize(), header.getMtimeMillis(), sha256);
    } catch (RuntimeException e) {
      log.warn("bulk: the listener of staged files failed on {}: {}", temp, e.toString());
    }
  }

  private String isADirectory() {
    return dest + " is a directory";
  }

  private void applyMetadata() throws IOException {
    // both times given: the JDK otherwise reads the file's attributes first to keep atime
    java.nio.file.attribute.FileTime now = FileTime.from(java.time.Instant.now());
    if (fresh) {
      FileTimes.set(temp, FileTime.fromMillis(header.getMtimeMillis()), now);
      return;
    }
    try {
      Set<PosixFilePermission> perms = EnumSet.copyOf(Files.getPosixFilePermissions(temp));
      if (header.getExecutable()) {
        perms.add(PosixFilePermission.OWNER_EXECUTE);
        if (perms.contains(PosixFilePermission.GROUP_READ)) {
          perms.add(PosixFilePermission.GROUP_EXECUTE);
        }
        if (perms.contains(PosixFilePermission.OTHERS_READ)) {
          perms.add(PosixFilePermission.OTHERS_EXECUTE);
        }
      } else {
        perms.remove(PosixFilePermission.OWNER_EXECUTE);
        perms.remove(PosixFilePermission.GROUP_EXECUTE);
        perms.remove(PosixFilePermission.OTHERS_EXECUTE);
      }
      Files.setPosixFilePermissions(temp, perms);
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: no executable bit to carry
    }
    FileTimes.set(temp, FileTime.fromMillis(header.getMtimeMillis()), now);
  }

  /** Gives up: deletes the temporary file (unless fenced: not ours then); returns the failed verdict. */
  synchronized Verdict fail(String reason) {
    closeQuietly();
    if (!fenced) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException e) {
        reason = reason + " (and the temporary file " + temp + " could not be removed: " + e.getMessage() + ")";
      }
    }
    PartialWriters.ALL.release(this);
    counters.fileFailed();
    return Verdict.newBuilder().setOk(false).setError(reason).setMode(header.getMode()).build();
  }

  /** The connection is gone: keep what was written for a resume. */
  synchronized void abandon() {
    closeQuietly();
    PartialWriters.ALL.release(this);
  }

  /**
   * A transfer on a newer connection takes the partial file over: once this returns, this one
   * writes nothing more (the block it was writing is done). Any thread.
   */
  synchronized void fence() {
    fenced = true;
    closeQuietly();
  }

  private void closeQuietly() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        // closing after a failure; the failure is what gets reported
      }
    }
  }
}
