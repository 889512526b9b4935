package dev.thunderlink.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.sync.OpenRequest;
import dev.thunderlink.proto.sync.OpenResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host opens session roots only under its permitted roots, and says what to do about one that is not. */
class HostPermittedRootsTest {
  @TempDir Path tmp;

  @Test
  void aRootOutsideThePermittedOnesIsRefusedWithWhatToDo() throws Exception {
    Path permitted = Files.createDirectories(tmp.resolve("projects"));
    SyncHostService host = new SyncHostService(tmp.resolve("state"), "mini", false, Duration.ofMillis(10), List.of(permitted));
    try {
      assertThat(refusal(host, "/etc")).isEqualTo("remote root /etc is outside the host's permitted roots [" + permitted
          + "] (not under any of them); add it to bulk.permitted_roots in the host's config.toml");
      assertThat(refusal(host, "projects/app")).isEqualTo("remote root projects/app is outside the host's permitted roots ["
          + permitted + "] (not an absolute path); give an absolute path on the host");
      // ~ is the host user's home, here outside the permitted root, so judged as that folder
      assertThat(refusal(host, "~/app")).isEqualTo("remote root ~/app is outside the host's permitted roots ["
          + permitted + "] (not under any of them); add it to bulk.permitted_roots in the host's config.toml");
      assertThat(dev.thunderlink.sync.internal.PathNames.hostRoot("~/app/../web", tmp)).isEqualTo(tmp.resolve("web"));
      assertThat(dev.thunderlink.sync.internal.PathNames.hostRoot("~", tmp)).isEqualTo(tmp);
      assertThat(refusal(host, "~bob/app")).endsWith(
          "(~USER is not supported: ~/PATH is the host user's home); give an absolute path on the host");
    } finally {
      host.close();
    }
  }

  /** The description of the PERMISSION_DENIED {@code open} answers for {@code root}. */
  private static String refusal(SyncHostService host, String root) {
    AtomicReference<Throwable> error = new AtomicReference<>();
    host.open(OpenRequest.newBuilder().setSession("s").setRoot(root).build(), new StreamObserver<OpenResponse>() {
      @Override
      public void onNext(OpenResponse value) {
        throw new AssertionError("opened " + root);
      }

      @Override
      public void onError(Throwable t) {
        error.set(t);
      }

      @Override
      public void onCompleted() {}
    });
    Status s = Status.fromThrowable(error.get());
    assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    return s.getDescription();
  }
}
