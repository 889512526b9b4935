package dev.thunderlink.transport.internal;

import io.grpc.InternalMetadata;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.EOFException;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The framing of the control socket: gRPC calls to the local daemon over a Unix domain socket,
 * one connection per call, without HTTP/2 (so the CLI loads no Netty and no gRPC transport).
 *
 * <p>Every frame is {@code type (1 byte), length (4 bytes, big-endian), payload}. The client
 * sends {@link #HEADERS} (method name, timeout, metadata), then {@link #MESSAGE}s and
 * {@link #HALF_CLOSE}; the server answers with {@link #HEADERS} (metadata), {@link #MESSAGE}s
 * and one {@link #TRAILERS} (status code, description, metadata), then closes. A client that
 * closes the connection before the trailers cancels the call. Messages are the method's own
 * protobuf encoding.
 *
 * <p>Stateless; the callers serialize their reads and their writes per connection.
 */
public final class ControlFrames {
  public static final byte HEADERS = 1;
  public static final byte MESSAGE = 2;
  public static final byte HALF_CLOSE = 3;
  public static final byte TRAILERS = 4;
  /** The largest payload, as the TCP endpoint's inbound message limit. */
  public static final int MAX_PAYLOAD = 16 * 1024 * 1024;

  private ControlFrames() {}

  /** One frame as read. */
  public record Frame(byte type, byte[] payload) {}

  /** A frame that breaks the framing: the connection cannot go on. */
  public static final class FrameException extends IOException {
    private final Status.Code code;

    FrameException(Status.Code code, String message) {
      super(message);
      this.code = code;
    }

    /** The status that reports it to the other side. */
    public Status status() {
      return Status.fromCode(code).withDescription(getMessage());
    }
  }

  /**
   * Reads the next frame; null at a clean end of stream (between frames).
   *
   * @throws EOFException when the stream ends inside a frame
   * @throws FrameException for an unknown type or a payload over {@link #MAX_PAYLOAD}
   */
  public static Frame read(ReadableByteChannel ch) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(5);
    if (!fill(ch, head, true)) {
      return null;
    }
    head.flip();
    byte type = head.get();
    int length = head.getInt();
    if (type < HEADERS || type > TRAILERS) {
      throw new FrameException(Status.Code.INTERNAL, "malformed control frame: unknown frame type " + type);
    }
    if (length < 0 || length > MAX_PAYLOAD) {
      throw new FrameException(
          Status.Code.RESOURCE_EXHAUSTED,
          "control frame too large: " + Integer.toUnsignedString(length) + " bytes (expected: <= " + MAX_PAYLOAD + ")");
    }
    ByteBuffer payload = ByteBuffer.allocate(length);
    fill(ch, payload, false);
    return new Frame(type, payload.array());
  }

  private static boolean fill(ReadableByteChannel ch, ByteBuffer b, boolean endAllowed) throws IOException {
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        if (endAllowed && b.position() == 0) {
          return false;
        }
        throw new EOFException("the control connection ended inside a frame");
      }
    }
    return true;
  }

  /** Writes one frame whole (the caller holds the connection's write lock). */
  public static void write(WritableByteChannel ch, byte type, byte[] payload) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(5 + payload.length);
    b.put(type).putInt(payload.length).put(payload).flip();
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** The client's first frame. */
  public record CallHead(String method, long timeoutNanos, Metadata headers) {
    /** No deadline. */
    public static final long NO_TIMEOUT = -1;

    public byte[] encode() {
      return new Writer().string(method).int64(timeoutNanos).metadata(headers).bytes();
    }

    public static CallHead decode(byte[] payload) throws FrameException {
      return parse(payload, r -> new CallHead(r.string(), r.int64(), r.metadata()));
    }
  }

  /** The server's last frame. */
  public record CallEnd(Status status, Metadata trailers) {
    public byte[] encode() {
      return new Writer().int32(status.getCode().value()).string(status.getDescription()).metadata(trailers).bytes();
    }

    public static CallEnd decode(byte[] payload) throws FrameException {
      return parse(payload, r -> new CallEnd(Status.fromCodeValue(r.int32()).withDescription(r.string()), r.metadata()));
    }
  }

  public static byte[] encodeMetadata(Metadata md) {
    return new Writer().metadata(md).bytes();
  }

  public static Metadata decodeMetadata(byte[] payload) throws FrameException {
    return parse(payload, Reader::metadata);
  }

  private interface Parse<T> {
    T from(Reader r);
  }

  private static <T> T parse(byte[] payload, Parse<T> p) throws FrameException {
    Reader r = new Reader(ByteBuffer.wrap(payload));
    try {
      T t = p.from(r);
      if (r.b.hasRemaining()) {
        throw new IllegalArgumentException(r.b.remaining() + " bytes after the end");
      }
      return t;
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      throw new FrameException(
          Status.Code.INTERNAL,
          "malformed control frame: " + (e.getMessage() == null ? "it ends too early" : e.getMessage()));
    }
  }

  /** Strings are a length (-1 for null) and UTF-8; metadata a pair count and length-prefixed keys and values. */
  private static final class Writer {
    private ByteBuffer b = ByteBuffer.allocate(256);

    private Writer room(int n) {
      if (b.remaining() < n) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n));
        b.flip();
        bigger.put(b);
        b = bigger;
      }
      return this;
    }

    Writer int32(int v) {
      room(4).b.putInt(v);
      return this;
    }

    Writer int64(long v) {
      room(8).b.putLong(v);
      return this;
    }

    Writer blob(byte[] v) {
      room(4 + v.length).b.putInt(v.length).put(v);
      return this;
    }

    Writer string(String s) {
      return s == null ? int32(-1) : blob(s.getBytes(StandardCharsets.UTF_8));
    }

    Writer metadata(Metadata md) {
      byte[][] kv = InternalMetadata.serialize(md);
      int32(kv.length / 2);
      for (byte[] x : kv) {
        blob(x);
      }
      return this;
    }

    byte[] bytes() {
      byte[] out = new byte[b.position()];
      b.flip().get(out);
      return out;
    }
  }

  private static final class Reader {
    final ByteBuffer b;

    Reader(ByteBuffer b) {
      this.b = b;
    }

    int int32() {
      return b.getInt();
    }

    long int64() {
      return b.getLong();
    }

    byte[] blob() {
      int n = b.getInt();
      if (n < 0 || n > b.remaining()) {
        throw new IllegalArgumentException("a field of " + n + " bytes (expected: 0 to " + b.remaining() + ")");
      }
      byte[] v = new byte[n];
      b.get(v);
      return v;
    }

    String string() {
      if (b.getInt(b.position()) == -1) {
        b.getInt();
        return null;
      }
      return new String(blob(), StandardCharsets.UTF_8);
    }

    Metadata metadata() {
      int pairs = b.getInt();
      if (pairs < 0 || pairs > b.remaining() / 8) {
        throw new IllegalArgumentException(pairs + " metadata entries (expected: 0 to " + b.remaining() / 8 + ")");
      }
      byte[][] kv = new byte[pairs * 2][];
      for (int i = 0; i < kv.length; i++) {
        kv[i] = blob();
      }
      return InternalMetadata.newMetadata(kv);
    }
  }
}
