package dev.thunderlink.transport.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.proto.bulk.DigestAlgorithm;
import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.Verdict;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkCounters;
import dev.thunderlink.transport.bulk.BulkException;
import dev.thunderlink.transport.bulk.TransferMode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link FileSender} on a connection over an embedded channel: what it hands to the channel. */
class FileSenderTest {
  @TempDir Path dir;

  private final EmbeddedChannel ch = new EmbeddedChannel();
  private final BulkConnection conn = BulkConnection.install(ch, BulkConfig.defaults(List.of()), new BulkCounters(), false, new NoRole(), true);

  @AfterEach
  void close() {
    ch.finishAndReleaseAll();
  }

  private record Sent(byte type, int stream, byte[] payload) {}

  /** Every message the channel was given, and the frames in them. */
  private List<List<Sent>> sent() {
    List<List<Sent>> out = new ArrayList<>();
    ByteBuf b;
    while ((b = ch.readOutbound()) != null) {
      List<Sent> frames = new ArrayList<>();
      while (b.isReadable()) {
        int len = b.readInt();
        byte type = b.readByte();
        int stream = b.readInt();
        frames.add(new Sent(type, stream, ByteBufUtil.getBytes(b.readSlice(Math.min(len, b.readableBytes())))));
      }
      b.release();
      out.add(frames);
    }
    return out;
  }

  /**
   * A file whose data fits one frame and goes raw is one buffer with its BEGIN, DATA and END:
   * one message for the event loop instead of four (a tree of 20,000 small files paid them per
   * file), the same frames on the wire.
   */
  @Test
  void aSmallRawFileIsOneMessageWithItsThreeFrames() throws Exception {
    conn.digest(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
    conn.fastPath(true);
    byte[] content = "small text, sent raw\n".repeat(300).getBytes(StandardCharsets.UTF_8);
    Path f = Files.write(dir.resolve("small.txt"), content);
    FileSender s = new FileSender(conn);
    FileSender.Outcome o = s.send(7, f, "there/small.txt", 0, null, n -> {}, () -> false);
    s.flush();
    assertThat(o.mode()).isEqualTo(TransferMode.HEAP);
    List<List<Sent>> messages = sent();
    assertThat(messages).hasSize(1);
    List<Sent> frames = messages.get(0);
    assertThat(frames).extracting(Sent::type).containsExactly(Frame.BEGIN, Frame.DATA_RAW, Frame.END);
    assertThat(frames).extracting(Sent::stream).containsOnly(7);
    FileHeader h = FileHeader.parseFrom(frames.get(0).payload());
    assertThat(h.getPath()).isEqualTo("there/small.txt");
    assertThat(h.getSize()).isEqualTo(content.length);
    assertThat(frames.get(1).payload()).isEqualTo(content);
    assertThat(frames.get(2).payload()).isEmpty();
    Hashing.Content md = Hashing.content(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
    md.update(content, 0, content.length);
    assertThat(o.digest().getXxh3128().toByteArray()).isEqualTo(md.finish());
  }

  /** An empty file: BEGIN and END in one message, no DATA frame. */
  @Test
  void anEmptyFileIsBeginAndEnd() throws Exception {
    conn.fastPath(true);
    Path f = Files.write(dir.resolve("empty"), new byte[0]);
    FileSender s = new FileSender(conn);
    s.send(3, f, "empty", 0, null, n -> {}, () -> false);
    s.flush();
    assertThat(sent()).singleElement().satisfies(frames ->
        assertThat(frames).extracting(Sent::type).containsExactly(Frame.BEGIN, Frame.END));
  }

  /** From a resume offset only the rest travels, still in one message. */
  @Test
  void aResumedSmallFileSendsTheRest() throws Exception {
    conn.fastPath(true);
    byte[] content = "0123456789".repeat(100).getBytes(StandardCharsets.UTF_8);
    Path f = Files.write(dir.resolve("resumed"), content);
    FileSender s = new FileSender(conn);
    FileSender.Outcome o = s.send(5, f, "resumed", 400, null, n -> {}, () -> false);
    s.flush();
    assertThat(o.sentBytes()).isEqualTo(600);
    List<Sent> frames = sent().get(0);
    assertThat(FileHeader.parseFrom(frames.get(0).payload()).getOffset()).isEqualTo(400);
    assertThat(frames.get(1).payload()).isEqualTo(java.util.Arrays.copyOfRange(content, 400, 1000));
  }

  /**
   * A source that cannot be read before its stream began (gone between the walk and the send,
   * or a failing read of the LZ4 probe) fails that file alone and sends nothing: a CANCEL for a
   * stream the peer never saw begin is a protocol error there, which dropped the connection and
   * every file after it.
   */
  @Test
  void aSourceUnreadableBeforeItsStreamBeganSendsNoFrame() throws Exception {
    conn.fastPath(false);
    Path f = Files.write(dir.resolve("gone"), "x".repeat(300_000).getBytes(StandardCharsets.UTF_8));
    FileSender.Source attrs = FileSender.Source.of(f);
    Files.delete(f);
    FileSender s = new FileSender(conn);
    assertThatThrownBy(() -> s.send(9, f, attrs, "gone", 0, null, n -> {}, () -> false))
        .isInstanceOf(BulkException.class).hasMessageStartingWith("cannot read " + f);
    s.flush();
    assertThat(sent()).isEmpty();
  }
}
