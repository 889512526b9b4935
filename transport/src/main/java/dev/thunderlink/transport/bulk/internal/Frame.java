package dev.thunderlink.transport.bulk.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;
import java.nio.charset.StandardCharsets;

/**
 * One frame of the bulk connection, or — for {@link #DATA_RAW} — a piece of one: raw data
 * is handed on as it arrives, so a large frame is never gathered in memory.
 *
 * <p>Wire format: {@code u32 payloadLength, u8 type, u32 streamId, payload}. Stream 0 is
 * the connection itself. {@link #DATA_LZ4} payloads are {@code u32 rawLength, u8 stored,
 * block}. Not thread-safe; owns its payload until released.
 */
public final class Frame extends AbstractReferenceCounted {
  public static final int HEADER_BYTES = 9;

  /** Client's first frame: {@code Hello}. */
  public static final byte HELLO = 1;
  /** Server's answer to a good HELLO; empty. */
  public static final byte HELLO_OK = 2;
  /** A file follows on this stream: {@code FileHeader}. */
  public static final byte BEGIN = 3;
  /** File bytes as they are. */
  public static final byte DATA_RAW = 4;
  /** One LZ4 block. */
  public static final byte DATA_LZ4 = 5;
  /** All data of the stream sent; empty. */
  public static final byte END = 6;
  /** Send me a file: {@code GetRequest}. */
  public static final byte GET = 7;
  /** The sender gives up the stream; UTF-8 reason. */
  public static final byte CANCEL = 8;
  /** A failure of the stream (or of the connection for stream 0); UTF-8 one-line reason. */
  public static final byte ERROR = 9;

  public final byte type;
  public final int stream;
  public final ByteBuf payload;

  public Frame(byte type, int stream, ByteBuf payload) {
    this.type = type;
    this.stream = stream;
    this.payload = payload;
  }

  public String text() {
    return payload.toString(StandardCharsets.UTF_8);
  }

  public static String typeName(byte type) {
    switch (type) {
      case HELLO: return "HELLO";
      case HELLO_OK: return "HELLO_OK";
      case BEGIN: return "BEGIN";
      case DATA_RAW: return "DATA";
      case DATA_LZ4: return "DATA_LZ4";
      case END: return "END";
      case GET: return "GET";
      case CANCEL: return "CANCEL";
      case ERROR: return "ERROR";
      default: return "type " + (type & 0xff);
    }
  }

  /** Appends a frame's header ({@value #HEADER_BYTES} bytes) to {@code b}; its payload goes next. */
  public static ByteBuf writeHeader(ByteBuf b, byte type, int stream, int payloadLength) {
    return b.writeInt(payloadLength).writeByte(type).writeInt(stream);
  }

  /** A header for a payload that is written separately (a file region). */
  public static ByteBuf header(ByteBufAllocator alloc, byte type, int stream, int payloadLength) {
    return writeHeader(alloc.directBuffer(HEADER_BYTES), type, stream, payloadLength);
  }

  /** A whole frame in one buffer. */
  public static ByteBuf encode(ByteBufAllocator alloc, byte type, int stream, byte[] payload) {
    return writeHeader(alloc.buffer(HEADER_BYTES + payload.length), type, stream, payload.length).writeBytes(payload);
  }

  public static ByteBuf encode(ByteBufAllocator alloc, byte type, int stream, String text) {
    return encode(alloc, type, stream, text.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  protected void deallocate() {
    payload.release();
  }

  @Override
  public ReferenceCounted touch(Object hint) {
    payload.touch(hint);
    return this;
  }

  @Override
  public String toString() {
    return typeName(type) + "(stream " + stream + ", " + payload.readableBytes() + " bytes)";
  }
}
