package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IgnoreRulesTest {
  @TempDir
  Path root;

  @Test
  void builtInsCannotBeNegated() {
    IgnoreRules r = new IgnoreRules(root, List.of("!.DS_Store", "!*.lock"), false, false);
    assertThat(r.isIgnored(".DS_Store", false)).isTrue();
    assertThat(r.isIgnored("sub/.DS_Store", false)).isTrue();
    assertThat(r.isIgnored(".git/index.lock", false)).isTrue();
    assertThat(r.isIgnored(".git/refs/heads/main.lock", false)).isTrue();
    assertThat(r.isIgnored(".thunderlink-tmp-123", false)).isTrue();
    // the bulk plane's partial of a copy pushed to a temporary name
    assertThat(r.isIgnored("sub/..thunderlink-tmp-123.tlpart", false)).isTrue();
    assertThat(IgnoreRules.isTemp("..thunderlink-tmp-123.tlpart")).isTrue();
    assertThat(r.isIgnored(".report.pdf.tlpart", false)).as("a cp's partial is the user's").isFalse();
    assertThat(r.isIgnored(".git/config", false)).isFalse();
    assertThat(r.isIgnored("Cargo.lock", false)).as("*.lock outside .git syncs").isFalse();
  }

  /**
   * A read of the rule file that was under way when the rules were invalidated (the index
   * recorded a new content meanwhile) answers its own query but is not kept: the next query
   * reads the file again. Before, it stored its old rules over the invalidation.
   */
  @Test
  void aReadUnderWayWhenTheRulesAreInvalidatedIsNotKept() throws Exception {
    IgnoreRules r = new IgnoreRules(root, List.of(), false, false);
    Path file = Files.writeString(root.resolve(IgnoreRules.IGNORE_FILE), "a/\n");
    r.afterRead = f -> {
      r.afterRead = g -> { };
      try {
        Files.writeString(f, "b/\n");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      r.invalidate();
    };
    assertThat(r.isIgnored("a/x", false)).as("the read under way answers with what it read").isTrue();
    assertThat(r.isIgnored("b/x", false)).as("the next query reads the file again").isTrue();
    assertThat(r.isIgnored("a/x", false)).isFalse();
    assertThat(r.readAs(IgnoreRules.IGNORE_FILE, ContentHash.of(Files.readAllBytes(file)))).isTrue();
    assertThat(r.readAs(IgnoreRules.IGNORE_FILE, ContentHash.of("a/\n".getBytes(java.nio.charset.StandardCharsets.UTF_8))))
        .as("read as other bytes").isFalse();
  }

  /** A change of these files makes a side look at its tree again under new rules. */
  @Test
  void theFilesTheRulesAreReadFrom() {
    IgnoreRules withGit = new IgnoreRules(root, List.of(), true, false);
    IgnoreRules without = new IgnoreRules(root, List.of(), false, false);
    for (IgnoreRules r : List.of(withGit, without)) {
      assertThat(r.readsFile(".thunderlinkignore")).isTrue();
      assertThat(r.readsFile("sub/.thunderlinkignore")).as("only the root's").isFalse();
      assertThat(r.readsFile("notes.txt")).isFalse();
    }
    assertThat(withGit.readsFile(".gitignore")).isTrue();
    assertThat(withGit.readsFile("app/.gitignore")).isTrue();
    assertThat(without.readsFile("app/.gitignore")).as("not read: its change changes nothing").isFalse();
  }

  @Test
  void vcsIgnoreLeavesGitOut() {
    IgnoreRules r = new IgnoreRules(root, List.of(), false, true);
    assertThat(r.isIgnored(".git", true)).isTrue();
    assertThat(r.isIgnored(".git/config", false)).isTrue();
    assertThat(r.isIgnored("src/.gitkeep", false)).isFalse();
  }

  @Test
  void nestedGitignoresOverrideParentsAndSessionPatterns() throws Exception {
    Files.writeString(root.resolve(".gitignore"), "*.log\nbuild/\n");
    Files.createDirectories(root.resolve("app"));
    Files.writeString(root.resolve("app/.gitignore"), "!keep.log\n");
    IgnoreRules r = new IgnoreRules(root, List.of("*.tmp"), true, false);
    assertThat(r.isIgnored("x.log", false)).isTrue();
    assertThat(r.isIgnored("app/x.log", false)).isTrue();
    assertThat(r.isIgnored("app/keep.log", false)).isFalse();
    assertThat(r.isIgnored("build", true)).isTrue();
    assertThat(r.isIgnored("build/a/b.c", false)).as("inside an ignored directory").isTrue();
    assertThat(r.isIgnored("a.tmp", false)).isTrue();
    assertThat(r.isIgnored("src/main.c", false)).isFalse();
    // without use of .gitignore files, only session patterns apply
    IgnoreRules noGit = new IgnoreRules(root, List.of("*.tmp"), false, false);
    assertThat(noGit.isIgnored("x.log", false)).isFalse();
  }

  @Test
  void badPatternsGetOneLineErrors() {
    assertThatThrownBy(() -> IgnoreRules.validatePattern(" ")).hasMessage(
        "ignore pattern: ' ' (expected: a non-empty .gitignore pattern)");
  }
}
