package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import org.junit.jupiter.api.Test;

/** A failed operation's message, as {@code sync status} shows it per path. */
class ApplyResultTest {
  @Test
  void aRefusedPermissionSaysSoAndWhatToDoNotOnlyTheFilesName() {
    // the JDK's message for EACCES/EPERM is the file's name alone
    AccessDeniedException denied = new AccessDeniedException("/Users/me/p/a.txt");
    assertThat(denied.getMessage()).isEqualTo("/Users/me/p/a.txt");
    ApplyResult r = ApplyResult.failed(denied);
    assertThat(r.outcome()).isEqualTo(ApplyResult.Outcome.FAILED);
    assertThat(r.message()).isEqualTo(
        "permission denied on /Users/me/p/a.txt: give this user write access to it, or ignore the path");
    assertThat(ApplyResult.reason(new AccessDeniedException("/p/a", null, "Operation not permitted")))
        .isEqualTo("permission denied on /p/a (Operation not permitted): give this user write access to it, or ignore"
            + " the path");
    assertThat(ApplyResult.reason(new IOException("disk on fire"))).isEqualTo("disk on fire");
    assertThat(ApplyResult.reason(new IOException())).isEqualTo("java.io.IOException");
  }
}
