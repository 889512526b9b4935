package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The path checks every call runs: what a relative path may be, the ASCII test of the bulk
 * plane's paths, and the collision keys the coordinator gives every path it meets.
 */
class PathNamesTest {

  @ParameterizedTest
  @ValueSource(strings = {"a", "a/b", ".hidden", "..x", "x..", "a/...", "x./y", "a/.b/c", "é/ü", "a b/c"})
  void acceptsCanonicalRelativePaths(String path) {
    assertThat(PathNames.checkRelative(path)).isEqualTo(path);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "/a", "a/", "a//b", ".", "..", "./a", "a/./b", "a/..", "../a", "a/../b", "a\\b", "a\u0000b"})
  void rejectsEscapingOrNonCanonicalPaths(String path) {
    assertThatThrownBy(() -> PathNames.checkRelative(path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("path: ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a/b.txt", "~x_-.y"})
  void asciiPaths(String path) {
    assertThat(PathNames.isAscii(path)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"é", "a/\u00e9.txt", "x\u0080", "日本"})
  void nonAsciiPaths(String path) {
    assertThat(PathNames.isAscii(path)).isFalse();
  }

  @ParameterizedTest
  @CsvSource({"Src/Main.java,src/main.java", "a/b.txt,a/b.txt", "README,readme", "X_-.~y,x_-.~y"})
  void anAsciiPathsCollisionKeyIsItsLowerCase(String path, String key) {
    assertThat(PathNames.collisionKey(path)).isEqualTo(key);
  }

  @Test
  void composedAndDecomposedNamesShareOneCollisionKeyWhateverTheirCase() {
    String composed = "Caf\u00e9/\u00c9t\u00e9.txt";
    String decomposed = "Cafe\u0301/E\u0301te\u0301.txt";
    assertThat(PathNames.collisionKey(decomposed)).isEqualTo(PathNames.collisionKey(composed))
        .isEqualTo("caf\u00e9/\u00e9t\u00e9.txt");
  }
}
