package dev.thunderlink.daemon.cp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OutputPiecesTest {
  /** 1-, 2-, 3- and 4-byte characters, so that cuts fall inside every kind of character. */
  private static final String TEXT = "path/ä/日本語/😀/x".repeat(300);

  @Test
  void everyPieceIsWholeCharactersAtMostTheSizeAndTogetherTheyAreWhatWasWritten() throws Exception {
    byte[] utf8 = TEXT.getBytes(StandardCharsets.UTF_8);
    for (int size : new int[] {4, 5, 6, 7, 64, 1000, 1 << 20}) {
      for (long seed = 0; seed < 5; seed++) {
        List<ByteString> pieces = new ArrayList<>();
        Random r = new Random(seed);
        try (OutputPieces out = new OutputPieces(size, pieces::add)) {
          int i = 0;
          while (i < utf8.length) { // writes of random lengths, single bytes among them
            int len = Math.min(utf8.length - i, r.nextInt(3) == 0 ? 1 : 1 + r.nextInt(40));
            if (len == 1) {
              out.write(utf8[i]);
            } else {
              out.write(utf8, i, len);
            }
            out.flush(); // keeps the bytes: pieces stay full
            i += len;
          }
        }
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int k = 0; k < pieces.size(); k++) {
          ByteString p = pieces.get(k);
          assertThat(p.size()).as("piece %d of size %d", k, size).isBetween(1, size);
          if (k < pieces.size() - 1) {
            assertThat(p.size()).as("a piece before the last is full but for a cut character").isGreaterThan(size - 4);
          }
          // strict decoding: a piece that ends inside a character throws
          StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(p.toByteArray()));
          p.writeTo(all);
        }
        assertThat(all.toByteArray()).as("size %d seed %d", size, seed).isEqualTo(utf8);
      }
    }
  }

  @Test
  void nothingWrittenSendsNothingAndATooSmallPieceIsRefused() {
    List<ByteString> pieces = new ArrayList<>();
    new OutputPieces(16, pieces::add).close();
    assertThat(pieces).isEmpty();
    assertThatThrownBy(() -> new OutputPieces(3, pieces::add)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("piece size: 3");
  }

  @Test
  void wholeCharactersCountsTheBytesBeforeACutCharacter() {
    byte[] b = "a😀".getBytes(StandardCharsets.UTF_8); // 1 + 4 bytes
    assertThat(OutputPieces.wholeCharacters(b, 5)).isEqualTo(5);
    assertThat(OutputPieces.wholeCharacters(b, 4)).isEqualTo(1);
    assertThat(OutputPieces.wholeCharacters(b, 2)).isEqualTo(1);
    assertThat(OutputPieces.wholeCharacters(b, 1)).isEqualTo(1);
    byte[] e = "é".getBytes(StandardCharsets.UTF_8);
    assertThat(OutputPieces.wholeCharacters(e, 1)).isZero();
  }
}
