package dev.thunderlink.sync.internal;

import static dev.thunderlink.sync.internal.Reconciler.Action.AGREE;
import static dev.thunderlink.sync.internal.Reconciler.Action.CONFLICT_RENAME_LOCAL;
import static dev.thunderlink.sync.internal.Reconciler.Action.CONFLICT_RENAME_REMOTE;
import static dev.thunderlink.sync.internal.Reconciler.Action.NONE;
import static dev.thunderlink.sync.internal.Reconciler.Action.TO_LOCAL;
import static dev.thunderlink.sync.internal.Reconciler.Action.TO_REMOTE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.sync.SyncMode;
import dev.thunderlink.sync.internal.Reconciler.Action;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every combination of ancestor / local / remote over {absent, file A, file B, directory,
 * symlink A, symlink B} (6^3 = 216) for each mode, checked against the rules each mode
 * promises; plus an explicit table of the cases people ask about.
 */
class ReconcilerTest {
  private static final Map<String, Entry> STATES = new LinkedHashMap<>();

  static {
    STATES.put("absent", null);
    STATES.put("fileA", Entry.file("aa", 1, false, 0));
    STATES.put("fileB", Entry.file("bb", 1, false, 0));
    STATES.put("dir", Entry.directory());
    STATES.put("linkA", Entry.symlink("a"));
    STATES.put("linkB", Entry.symlink("b"));
  }

  static Stream<Arguments> everyCombination() {
    List<Arguments> out = new ArrayList<>();
    for (SyncMode mode : SyncMode.values()) {
      for (String a : STATES.keySet()) {
        for (String l : STATES.keySet()) {
          for (String r : STATES.keySet()) {
            out.add(Arguments.of(mode, a, l, r));
          }
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} a={1} l={2} r={3}")
  @MethodSource("everyCombination")
  void everyCombinationFollowsTheModesRules(SyncMode mode, String an, String ln, String rn) {
    Entry a = STATES.get(an);
    Entry l = STATES.get(ln);
    Entry r = STATES.get(rn);
    Action act = Reconciler.reconcile(mode, a, l, r);
    boolean lChanged = !Entry.sameContent(a, l);
    boolean rChanged = !Entry.sameContent(a, r);
    if (Entry.sameContent(l, r)) {
      // identical changes are no conflict
      assertThat(act).isEqualTo(lChanged ? AGREE : NONE);
      return;
    }
    // after the action, both sides converge on one state or a conflict keeps both
    assertThat(act).isNotIn(NONE, AGREE);
    switch (mode) {
      case ONE_WAY_REPLICA:
        assertThat(act).isEqualTo(TO_REMOTE);
        break;
      case TWO_WAY_SAFE:
      case TWO_WAY_RESOLVED:
        if (!lChanged) {
          assertThat(act).isEqualTo(TO_LOCAL);
        } else if (!rChanged) {
          assertThat(act).isEqualTo(TO_REMOTE);
        } else if (l == null) {
          assertThat(act).as("deletion loses to modification").isEqualTo(TO_LOCAL);
        } else if (r == null) {
          assertThat(act).as("deletion loses to modification").isEqualTo(TO_REMOTE);
        } else if (l.isDirectory()) {
          assertThat(act).as("the directory keeps the name").isEqualTo(CONFLICT_RENAME_REMOTE);
        } else if (r.isDirectory()) {
          assertThat(act).as("the directory keeps the name").isEqualTo(CONFLICT_RENAME_LOCAL);
        } else if (mode == SyncMode.TWO_WAY_SAFE) {
          assertThat(act).as("both versions are kept").isEqualTo(CONFLICT_RENAME_REMOTE);
        } else {
          assertThat(act).as("the workstation wins").isEqualTo(TO_REMOTE);
        }
        break;
      default:
        throw new AssertionError(mode);
    }
  }

  static Stream<Arguments> table() {
    return Stream.of(
        // mode, ancestor, local, remote, expected
        Arguments.of(SyncMode.TWO_WAY_SAFE, "absent", "fileA", "absent", TO_REMOTE),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "absent", "absent", "fileA", TO_LOCAL),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "absent", "fileA", "fileA", AGREE),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "absent", "fileA", "fileB", CONFLICT_RENAME_REMOTE),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "fileA", "absent", "fileA", TO_REMOTE),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "fileA", "absent", "fileB", TO_LOCAL),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "fileA", "fileB", "absent", TO_REMOTE),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "fileA", "absent", "absent", AGREE),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "fileA", "fileA", "fileA", NONE),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "dir", "fileA", "linkA", CONFLICT_RENAME_REMOTE),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "fileA", "fileB", "dir", CONFLICT_RENAME_LOCAL),
        Arguments.of(SyncMode.TWO_WAY_SAFE, "linkA", "linkB", "linkA", TO_REMOTE),
        Arguments.of(SyncMode.TWO_WAY_RESOLVED, "fileA", "fileB", "linkB", TO_REMOTE),
        Arguments.of(SyncMode.TWO_WAY_RESOLVED, "fileA", "absent", "fileB", TO_LOCAL),
        Arguments.of(SyncMode.ONE_WAY_REPLICA, "fileA", "fileA", "fileB", TO_REMOTE),
        Arguments.of(SyncMode.ONE_WAY_REPLICA, "absent", "absent", "fileB", TO_REMOTE));
  }

  @ParameterizedTest(name = "{0} a={1} l={2} r={3} -> {4}")
  @MethodSource("table")
  void explicitTable(SyncMode mode, String a, String l, String r, Action expected) {
    assertThat(Reconciler.reconcile(mode, STATES.get(a), STATES.get(l), STATES.get(r))).isEqualTo(expected);
  }

  @Test
  void executableBitAloneIsAChange() {
    Entry plain = Entry.file("aa", 1, false, 0);
    Entry exec = Entry.file("aa", 1, true, 0);
    assertThat(Reconciler.reconcile(SyncMode.TWO_WAY_SAFE, plain, exec, plain)).isEqualTo(TO_REMOTE);
  }

  /** A modification time alone (a {@code touch}): the side that moved it gives it; never a conflict. */
  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.EnumSource(SyncMode.class)
  void aChangedModificationTimeAloneGoesFromTheSideThatChangedIt(SyncMode mode) {
    Entry t1 = Entry.file("aa", 1, false, 1_000);
    Entry t2 = t1.withMtime(2_000);
    Entry t3 = t1.withMtime(3_000);
    Entry unknown = t1.withMtime(Entry.UNKNOWN_MTIME);
    boolean replica = mode == SyncMode.ONE_WAY_REPLICA;
    boolean resolved = mode == SyncMode.TWO_WAY_RESOLVED;
    assertThat(Reconciler.reconcile(mode, t1, t2, t1)).as("local touched").isEqualTo(TO_REMOTE);
    assertThat(Reconciler.reconcile(mode, t1, t1, t2)).as("remote touched").isEqualTo(replica ? TO_REMOTE : TO_LOCAL);
    assertThat(Reconciler.reconcile(mode, t1, t2, t3)).as("both touched")
        .isEqualTo(replica || resolved ? TO_REMOTE : NONE);
    assertThat(Reconciler.reconcile(mode, unknown, t2, t1)).as("times never agreed")
        .isEqualTo(replica || resolved ? TO_REMOTE : NONE);
    assertThat(Reconciler.reconcile(mode, null, t1, t2)).as("the same file on both sides before the first sync")
        .isEqualTo(replica ? TO_REMOTE : AGREE);
    assertThat(Reconciler.reconcile(mode, Entry.file("bb", 1, false, 1_000), t1, t2)).as("the same edit on both sides")
        .isEqualTo(replica ? TO_REMOTE : AGREE);
    assertThat(Reconciler.reconcile(mode, t1, t2, t2)).as("both touched alike: recorded").isEqualTo(AGREE);
    assertThat(Reconciler.reconcile(mode, t2, t2, t2)).isEqualTo(NONE);
    // a time is no content: an edit on one side beats a touch on the other, with no conflict copy
    assertThat(Reconciler.reconcile(mode, t1, Entry.file("bb", 1, false, 1_000), t2)).isEqualTo(TO_REMOTE);
    assertThat(Reconciler.reconcile(mode, t1, t2, Entry.file("bb", 1, false, 1_000)))
        .isEqualTo(replica ? TO_REMOTE : TO_LOCAL);
  }

  @Test
  void conflictCopyNameKeepsTheExtension() {
    var when = java.time.LocalDateTime.of(2026, 11, 26, 11, 2, 0);
    assertThat(PathNames.conflictName("a/report.txt", "mini", when))
        .isEqualTo("a/report.conflict-mini-20261126-110200.txt");
    assertThat(PathNames.conflictName("Makefile", "mac book", when)).isEqualTo("Makefile.conflict-mac_book-20261126-110200");
    assertThat(PathNames.conflictName(".bashrc", "mini", when)).isEqualTo(".bashrc.conflict-mini-20261126-110200");
    assertThat(PathNames.conflictName("a/report.txt", "mini", when, 3))
        .isEqualTo("a/report.conflict-mini-20261126-110200-3.txt");
  }
}
