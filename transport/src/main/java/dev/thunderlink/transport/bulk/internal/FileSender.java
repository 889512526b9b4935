package dev.thunderlink.transport.bulk.internal;

import dev.thunderlink.proto.bulk.Digest;
import dev.thunderlink.proto.bulk.Encoding;
import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkException;
import dev.thunderlink.transport.bulk.FileRange;
import dev.thunderlink.transport.bulk.ScannedAttributes;
import dev.thunderlink.transport.bulk.TransferMode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.DefaultFileRegion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * Sends one file on one stream: chooses the mode, writes BEGIN, the data frames and END,
 * hashing what it sends, and returns the digest for the control plane.
 *
 * <p>Mode choice: the first block is compressed as a probe; if LZ4 saves at least 10 % the
 * file goes as LZ4 blocks (a block that does not shrink travels stored). On a fast path
 * ({@link BulkConnection#fastPath()}: Thunderbolt, loopback) a file that fits in one LZ4 block
 * is not probed: its probe would be all of its compression, which costs more than sending
 * the bytes over such a path (a push of 20,000 text files of 1-16 KiB spent ~37 % of the
 * sending thread in LZ4 on loopback, and the host decompressed them again). Otherwise, on
 * plaintext, files of at least {@link BulkConfig#zeroCopyMinBytes()} go as file regions
 * (sendfile) and smaller ones from a buffer; under TLS from a buffer.
 *
 * <p>For zero-copy the sender thread reads each chunk to hash it while the kernel sends the
 * same range; if the file changes in between, the receiver's hash differs and the stream
 * fails. A change is also caught by comparing size and mtime before and after, which turns
 * into an abort with a clear reason.
 *
 * <p>Runs on the calling (sender) thread; blocks for backpressure. Not thread-safe; one
 * instance per sending thread (it keeps its buffers).
 */
public final class FileSender {
  private static final LZ4Compressor LZ4 = LZ4Factory.fastestInstance().fastCompressor();
  private static final int LZ4_BLOCK = BulkConfig.LZ4_BLOCK_BYTES;

  private final BulkConnection conn;
  private final ByteBuffer scratch;
  private final byte[] block = new byte[LZ4_BLOCK];
  private long unflushed;
  /** The LZ4 probe's output, reused for the first block: its offset (-1: none), sizes. */
  private byte[] probeOut;
  private long probeAt = -1;
  private int probeLen;
  private int probeCompressed;
  private java.util.List<Object[]> batch = new java.util.ArrayList<>();

  /** Whether the receiver is asked to leave each verified file at its partial name ({@code FileHeader.stage}). */
  private final boolean stage;

  public FileSender(BulkConnection conn) {
    this(conn, false);
  }

  /**
   * @param stage ask the receiver to leave each verified file at its partial name for the
   *     caller to install instead of renaming it to its path
   */
  public FileSender(BulkConnection conn, boolean stage) {
    this.conn = conn;
    this.stage = stage;
    this.scratch = ByteBuffer.allocateDirect(conn.config().chunkBytes());
  }

  /** What was sent. */
  public record Outcome(TransferMode mode, Digest digest, long sentBytes) {}

  /**
   * Sends {@code file} as {@code remotePath} on {@code stream}, starting at {@code offset}
   * (the receiver keeps the first bytes; they are hashed here from the file), or only its
   * {@code ranges} when not null (then {@code offset} is 0): those bytes back to back, as one
   * file of their total size hashed as such. A range beyond the file's end is refused.
   *
   * @param progress called with each chunk's payload bytes
   * @param cancelled polled per chunk; true stops the stream with CANCEL
   * @throws BulkException retryable when the connection fails; otherwise the file's problem
   */
  public Outcome send(
      int stream, Path file, String remotePath, long offset, List<FileRange> ranges, LongConsumer progress,
      BooleanSupplier cancelled)
      throws BulkException {
    Source source;
    try {
      source = Source.of(file);
    } catch (NoSuchFileException e) {
      throw new BulkException("cannot read " + file + ": no such file", false);
    } catch (IOException e) {
      throw new BulkException("cannot read " + file + ": " + e.getMessage(), false);
    }
    return send(stream, file, source, remotePath, offset, ranges, progress, cancelled);
  }

  /**
   * A file's attributes and executable bit from one stat, so a caller that already looked
   * (to skip a file the host has) hands them in instead of the send looking again: a push
   * made five stats a file, which a tree of 20,000 small files paid for.
   */
  public record Source(BasicFileAttributes attributes, boolean executable) {
    /** From attributes already read: no stat when they are POSIX ones. */
    public static Source of(Path file, BasicFileAttributes a) throws IOException {
      if (a instanceof ScannedAttributes s) {
        return new Source(a, s.executable());
      }
      if (a instanceof PosixFileAttributes p) {
        return new Source(a, p.permissions().contains(PosixFilePermission.OWNER_EXECUTE));
      }
      return new Source(a, isExecutable(file));
    }

    /** One stat (not following a link). */
    public static Source of(Path file) throws IOException {
      try {
        PosixFileAttributes a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return new Source(a, a.permissions().contains(PosixFilePermission.OWNER_EXECUTE));
      } catch (UnsupportedOperationException e) {
        return new Source(
            Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS), Files.isExecutable(file));
      }
    }
  }

  /** As above, with the file's {@code source} attributes already read (and not read again). */
  public Outcome send(
      int stream, Path file, Source source, String remotePath, long offset, List<FileRange> ranges,
      LongConsumer progress, BooleanSupplier cancelled)
      throws BulkException {
    return send(stream, file, source, remotePath, offset, ranges, null, progress, cancelled);
  }

  /**
   * As above; with {@code sha256}, the SHA-256 the whole file's content should have (the
   * mirror scanned it), the file is not hashed as it goes: that value is sent as the digest,
   * under SHA-256, and the receiver's hash of what it wrote must equal it (a file changed since
   * fails there, and says so). Ignored with {@code ranges}, whose stream is not the file.
   */
  public Outcome send(
      int stream, Path file, Source source, String remotePath, long offset, List<FileRange> ranges, byte[] sha256,
      LongConsumer progress, BooleanSupplier cancelled)
      throws BulkException {
    BasicFileAttributes before = source.attributes();
    boolean exec = source.executable();
    if (!before.isRegularFile()) {
      throw new BulkException("cannot send " + file + ": not a regular file", false);
    }
    long fileSize = before.size();
    if (offset > fileSize || ranges != null) {
      offset = 0;
    }
    List<FileRange> segments = ranges != null ? ranges
        : offset < fileSize ? List.of(new FileRange(offset, fileSize - offset)) : List.of();
    for (FileRange r : segments) {
      if (r.offset() + r.length() > fileSize) {
        throw new BulkException("cannot send bytes " + r.offset() + "-" + (r.offset() + r.length()) + " of " + file
            + ": it has " + fileSize, false);
      }
    }
    // the stream's size: the file's, or the ranges' total
    long size = ranges != null ? FileRange.total(ranges) : fileSize;
    boolean expected = sha256 != null && ranges == null;
    Hashing.Content md = expected ? Hashing.known(sha256) : Hashing.content(conn.digest());
    boolean begun = false; // BEGIN written: the peer knows the stream, a failure from here on CANCELs it
    try (FileChannel fc = FileChannel.open(file, StandardOpenOption.READ)) {
      if (offset > 0 && md.computes()) {
        Hashing.update(md, fc, offset, scratch);
      }
      probeAt = -1;
      long first = segments.isEmpty() ? offset : segments.get(0).offset();
      TransferMode mode = choose(fc, first, first + size - offset);
      FileHeader h =
          FileHeader.newBuilder()
              .setPath(remotePath)
              .setSize(size)
              .setMtimeMillis(before.lastModifiedTime().toMillis())
              .setExecutable(exec)
              .setEncoding(mode == TransferMode.LZ4 ? Encoding.ENCODING_LZ4 : Encoding.ENCODING_RAW)
              .setMode(mode.wire())
              .setOffset(offset)
              .setDigest(md.algorithm())
              .setStage(stage && ranges == null) // a delta's blocks are read at their path by who asked for them
              .setDigestExpected(expected)
              .build();
      if (cancelled.getAsBoolean()) {
        throw new BulkException("cancelled", false);
      }
      conn.awaitWritable();
      if ((mode == TransferMode.HEAP || mode == TransferMode.TLS) && size - offset <= conn.config().chunkBytes()) {
        sendWhole(stream, file, fc, h, segments, size - offset, md);
        progress.accept(size - offset);
      } else {
        begun = true;
        sendFrames(stream, file, fc, h, mode, segments, md, progress, cancelled);
      }
      if (size >= conn.config().zeroCopyMinBytes()) {
        flush();
      }
      Digest.Builder d = Digest.newBuilder().setSize(size);
      // with the content's SHA-256 given, the host's hash of what it wrote tells whether the file
      // changed on its way: no stat for it here (and the scan's attributes may be older than a
      // touch that left the content as it was, which must not fail the send)
      String changed = expected ? null : changedSince(file, before);
      if (changed != null) {
        d.setAbort(changed);
      } else {
        md.into(d);
      }
      return new Outcome(mode, d.build(), size - offset);
    } catch (BulkException e) {
      throw e;
    } catch (IOException e) {
      if (conn.failure() != null) {
        throw new BulkException(conn.failure(), true, e);
      }
      if (begun) { // a CANCEL for a stream the peer never saw begin is a protocol error there
        write(Frame.encode(conn.channel().alloc(), Frame.CANCEL, stream, "cannot read " + file + ": " + e.getMessage()), null, 0);
        flush();
      }
      throw new BulkException("cannot read " + file + ": " + e.getMessage(), false, e);
    }
  }

  /** Why {@code file} is not as {@code before} describes it any more (size or mtime), or null if it is. */
  private static String changedSince(Path file, BasicFileAttributes before) throws IOException {
    BasicFileAttributes after = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (after.size() == before.size() && after.lastModifiedTime().equals(before.lastModifiedTime())) {
      return null;
    }
    return "source " + file + " changed while it was being sent (size " + before.size() + " -> " + after.size()
        + "); nothing was written, copy it again";
  }

  /** BEGIN, the data frames (one per chunk or LZ4 block, none across two segments) and END. */
  private void sendFrames(
      int stream, Path file, FileChannel fc, FileHeader h, TransferMode mode, List<FileRange> segments,
      Hashing.Content md, LongConsumer progress, BooleanSupplier cancelled)
      throws IOException, BulkException {
    write(Frame.encode(conn.channel().alloc(), Frame.BEGIN, stream, h.toByteArray()), null, 0);
    for (FileRange segment : segments) {
      sendSegment(stream, file, fc, mode, segment.offset(), segment.offset() + segment.length(), md, progress, cancelled);
    }
    write(Frame.encode(conn.channel().alloc(), Frame.END, stream, new byte[0]), null, 0);
  }

  /** The data frames of bytes {@code pos} to {@code size} of the file. */
  private void sendSegment(
      int stream, Path file, FileChannel fc, TransferMode mode, long pos, long size, Hashing.Content md,
      LongConsumer progress, BooleanSupplier cancelled)
      throws IOException, BulkException {
    while (pos < size) {
      if (cancelled.getAsBoolean()) {
        write(Frame.encode(conn.channel().alloc(), Frame.CANCEL, stream, "cancelled"), null, 0);
        flush();
        throw new BulkException("cancelled", false);
      }
      conn.awaitWritable();
      long n;
      switch (mode) {
        case ZERO_COPY:
          n = sendRegion(stream, file, fc, pos, size, md);
          break;
        case LZ4:
          n = sendLz4Block(stream, file, fc, pos, size, md);
          break;
        default:
          n = sendBuffer(stream, file, fc, pos, size, md);
      }
      pos += n;
      progress.accept(n);
    }
  }

  /**
   * A file whose data fits one frame and goes raw: its BEGIN, DATA and END frames in one buffer,
   * the file read and hashed in place. One allocation and one message for the event loop instead
   * of four each, which a tree of 20,000 small files paid per file on both threads. Nothing is
   * written when the read fails, so there is no stream to cancel.
   */
  private void sendWhole(
      int stream, Path file, FileChannel fc, FileHeader h, List<FileRange> segments, long bytes, Hashing.Content md)
      throws BulkException {
    byte[] begin = h.toByteArray();
    int len = (int) bytes;
    int dataFrame = len > 0 ? Frame.HEADER_BYTES + len : 0;
    ByteBuf buf = conn.channel().alloc().directBuffer(3 * Frame.HEADER_BYTES + begin.length + dataFrame);
    try {
      Frame.writeHeader(buf, Frame.BEGIN, stream, begin.length).writeBytes(begin);
      if (len > 0) {
        Frame.writeHeader(buf, Frame.DATA_RAW, stream, len);
        int start = buf.writerIndex();
        for (FileRange segment : segments) {
          for (long got = 0, n; got < segment.length(); got += n) {
            n = buf.writeBytes(fc, segment.offset() + got, (int) (segment.length() - got));
            if (n < 0) {
              throw new IOException("source " + file + " shrank to " + (segment.offset() + got) + " bytes while being sent");
            }
          }
        }
        md.update(buf.nioBuffer(start, len));
      }
      Frame.writeHeader(buf, Frame.END, stream, 0);
    } catch (IOException | RuntimeException e) {
      buf.release();
      throw new BulkException("cannot read " + file + ": " + e.getMessage(), false, e);
    }
    write(null, buf, buf.readableBytes());
  }

  /** Sends whatever is buffered. */
  public void flush() {
    submit(true);
  }

  /**
   * Frames are collected here and handed to the event loop together once a chunk's worth is
   * collected (or on flush): a small file's BEGIN, DATA and END, and those of the files after
   * it, cost one event-loop task instead of three each.
   */
  private void write(ByteBuf header, Object payload, long payloadBytes) {
    long total = (header == null ? 0 : header.readableBytes()) + payloadBytes;
    unflushed += total;
    batch.add(new Object[] {header, payload, total});
    if (unflushed >= conn.config().chunkBytes() || batch.size() >= 256) {
      submit(true);
    }
  }

  private void submit(boolean flush) {
    unflushed = 0;
    if (batch.isEmpty()) {
      if (flush) {
        conn.flush();
      }
      return;
    }
    java.util.List<Object[]> frames = batch;
    batch = new java.util.ArrayList<>();
    conn.writeFrames(frames, flush);
  }

  private TransferMode choose(FileChannel fc, long offset, long size) throws IOException {
    BulkConfig cfg = conn.config();
    boolean tls = conn.encrypted();
    TransferMode forced = cfg.forceMode();
    if (forced != null) {
      if (forced == TransferMode.LZ4) {
        return TransferMode.LZ4;
      }
      if (tls) {
        return TransferMode.TLS;
      }
      return forced == TransferMode.TLS ? TransferMode.HEAP : forced;
    }
    long remaining = size - offset;
    if (cfg.lz4() && remaining >= 512 && !(conn.fastPath() && remaining <= LZ4_BLOCK)) {
      ByteBuffer probe = ByteBuffer.wrap(block, 0, (int) Math.min(LZ4_BLOCK, remaining));
      while (probe.hasRemaining() && fc.read(probe, offset + probe.position()) > 0) {
        // fill the probe block
      }
      int len = probe.position();
      int max = LZ4.maxCompressedLength(len);
      if (probeOut == null || probeOut.length < max) {
        probeOut = new byte[Math.max(max, LZ4.maxCompressedLength(LZ4_BLOCK))];
      }
      int c = LZ4.compress(block, 0, len, probeOut, 0, max);
      if (c < len * 0.9) {
        // the first block is compressed already: sendLz4Block sends it as it is
        probeAt = offset;
        probeLen = len;
        probeCompressed = c;
        return TransferMode.LZ4;
      }
    }
    if (tls) {
      return TransferMode.TLS;
    }
    return remaining >= cfg.zeroCopyMinBytes() ? TransferMode.ZERO_COPY : TransferMode.HEAP;
  }

  private long sendRegion(int stream, Path file, FileChannel fc, long pos, long size, Hashing.Content md)
      throws IOException {
    int len = (int) Math.min(scratch.capacity(), size - pos);
    if (md.computes()) { // read only to hash it: with an expected digest the kernel alone reads it
      scratch.clear().limit(len);
      while (scratch.hasRemaining()) {
        if (fc.read(scratch, pos + scratch.position()) < 0) {
          throw new IOException("source " + file + " shrank to " + (pos + scratch.position()) + " bytes while being sent");
        }
      }
      scratch.flip();
      md.update(scratch);
    } else {
      // the check the read above makes as it goes: a file cut short ends this stream here, not the
      // connection (the kernel's sendfile would come up short of bytes, which Netty fails it for)
      long now = fc.size();
      if (now < pos + len) {
        throw new IOException("source " + file + " shrank to " + now + " bytes while being sent");
      }
    }
    write(
        Frame.header(conn.channel().alloc(), Frame.DATA_RAW, stream, len),
        new DefaultFileRegion(file.toFile(), pos, len),
        len);
    return len;
  }

  private long sendBuffer(int stream, Path file, FileChannel fc, long pos, long size, Hashing.Content md)
      throws IOException {
    int len = (int) Math.min(conn.config().chunkBytes(), size - pos);
    ByteBuf buf = conn.channel().alloc().directBuffer(len);
    try {
      while (buf.writableBytes() > 0) {
        if (buf.writeBytes(fc, pos + buf.writerIndex(), buf.writableBytes()) < 0) {
          throw new IOException("source " + file + " shrank to " + (pos + buf.writerIndex()) + " bytes while being sent");
        }
      }
      md.update(buf.nioBuffer());
    } catch (IOException | RuntimeException e) {
      buf.release();
      throw e;
    }
    write(Frame.header(conn.channel().alloc(), Frame.DATA_RAW, stream, len), buf, len);
    return len;
  }

  private long sendLz4Block(int stream, Path file, FileChannel fc, long pos, long size, Hashing.Content md)
      throws IOException {
    int len = (int) Math.min(LZ4_BLOCK, size - pos);
    if (probeAt == pos && probeLen == len) {
      probeAt = -1;
      md.update(block, 0, len);
      ByteBuf out = conn.channel().alloc().heapBuffer(5 + probeCompressed);
      out.writeInt(len).writeByte(1).writeBytes(probeOut, 0, probeCompressed);
      write(Frame.header(conn.channel().alloc(), Frame.DATA_LZ4, stream, out.readableBytes()), out, out.readableBytes());
      return len;
    }
    probeAt = -1;
    ByteBuffer in = ByteBuffer.wrap(block, 0, len);
    while (in.hasRemaining()) {
      if (fc.read(in, pos + in.position()) < 0) {
        throw new IOException("source " + file + " shrank to " + (pos + in.position()) + " bytes while being sent");
      }
    }
    md.update(block, 0, len);
    int max = LZ4.maxCompressedLength(len);
    ByteBuf out = conn.channel().alloc().heapBuffer(5 + max);
    try {
      out.writeInt(len);
      out.writeByte(1);
      int c = LZ4.compress(block, 0, len, out.array(), out.arrayOffset() + out.writerIndex(), max);
      if (c >= len) {
        out.setByte(4, 0);
        out.writeBytes(block, 0, len);
      } else {
        out.writerIndex(out.writerIndex() + c);
      }
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
    int payload = out.readableBytes();
    write(Frame.header(conn.channel().alloc(), Frame.DATA_LZ4, stream, payload), out, payload);
    return len;
  }

  /** The executable bit as the bulk plane carries it: the owner's. */
  public static boolean isExecutable(Path file) throws IOException {
    try {
      return Files.getPosixFilePermissions(file).contains(PosixFilePermission.OWNER_EXECUTE);
    } catch (UnsupportedOperationException e) {
      return Files.isExecutable(file);
    }
  }
}
