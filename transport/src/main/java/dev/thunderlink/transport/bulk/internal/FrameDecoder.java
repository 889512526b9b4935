package dev.thunderlink.transport.bulk.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import java.util.List;

/**
 * Splits the byte stream into {@link Frame}s. Raw data frames are passed on in pieces as
 * bytes arrive (retained slices, no copy, nothing gathered); every other frame whole.
 *
 * <p>Runs on the channel's event loop. A frame longer than the maximum fails the connection
 * with {@link FrameTooLargeException} before any of it is buffered; a connection that ends
 * inside a frame is reported by {@link #partialFrame()}.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
  private final int maxFrameBytes;
  private int rawRemaining;
  private int rawStream;
  private int rawTotal;

  public FrameDecoder(int maxFrameBytes) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Thrown for a frame over the limit. */
  public static final class FrameTooLargeException extends DecoderException {
    private static final long serialVersionUID = 1L;

    FrameTooLargeException(String message) {
      super(message);
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.isReadable()) {
      if (rawRemaining > 0) {
        int n = Math.min(rawRemaining, in.readableBytes());
        out.add(new Frame(Frame.DATA_RAW, rawStream, in.readRetainedSlice(n)));
        rawRemaining -= n;
        continue;
      }
      if (in.readableBytes() < Frame.HEADER_BYTES) {
        return;
      }
      int start = in.readerIndex();
      long length = in.getUnsignedInt(start);
      byte type = in.getByte(start + 4);
      int stream = in.getInt(start + 5);
      if (length > maxFrameBytes) {
        in.skipBytes(in.readableBytes());
        throw new FrameTooLargeException(
            "frame " + Frame.typeName(type) + " of " + length + " bytes on stream " + stream
                + " exceeds the maximum of " + maxFrameBytes + " bytes");
      }
      if (type == Frame.DATA_RAW) {
        in.skipBytes(Frame.HEADER_BYTES);
        rawStream = stream;
        rawRemaining = (int) length;
        rawTotal = (int) length;
        continue;
      }
      if (in.readableBytes() < Frame.HEADER_BYTES + length) {
        return;
      }
      in.skipBytes(Frame.HEADER_BYTES);
      out.add(new Frame(type, stream, in.readRetainedSlice((int) length)));
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (in.isReadable()) {
      decode(ctx, in, out);
    }
    if (in.isReadable()) {
      int have = in.readableBytes();
      leftover =
          have < Frame.HEADER_BYTES
              ? have + " bytes of a frame header"
              : Frame.typeName(in.getByte(in.readerIndex() + 4)) + " frame on stream "
                  + in.getInt(in.readerIndex() + 5) + " (" + (have - Frame.HEADER_BYTES) + " of "
                  + in.getUnsignedInt(in.readerIndex()) + " bytes)";
      in.skipBytes(have);
    }
  }

  private String leftover;

  /**
   * The frame the connection ended in, or null when it ended at a frame boundary. Valid
   * once the channel is inactive.
   */
  public String partialFrame() {
    if (rawRemaining > 0) {
      return "DATA frame on stream " + rawStream + " (" + (rawTotal - rawRemaining) + " of " + rawTotal + " bytes)";
    }
    return leftover;
  }
}
