package dev.thunderlink.daemon.cp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.proto.cpcontrol.CopyEvent;
import dev.thunderlink.proto.cpcontrol.CopyRequest;
import dev.thunderlink.proto.cpcontrol.CpControlGrpc;
import dev.thunderlink.proto.cpcontrol.Done;
import dev.thunderlink.proto.cpcontrol.Planned;
import dev.thunderlink.transport.LocalControlServer;
import dev.thunderlink.transport.TransportFactory;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command's half of a copy run by the daemon, against a real control endpoint that answers as told. */
class DaemonCpTest {
  @TempDir Path home;
  private final TransportFactory tf = TransportFactory.auto();
  private final EventLoopGroup group = tf.newGroup(1, "test-control");
  private final StringWriter out = new StringWriter();
  private static final CopyRequest REQUEST =
      CopyRequest.newBuilder().setPush(true).addSources("/src/a").setDestination("/dst/a").build();

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private LocalControlServer daemon(String role, BiConsumer<CopyRequest, StreamObserver<CopyEvent>> copy) throws Exception {
    List<ServerServiceDefinition> services =
        copy == null
            ? List.of()
            : List.of(new CpControlGrpc.CpControlImplBase() {
                @Override
                public void copy(CopyRequest r, StreamObserver<CopyEvent> o) {
                  copy.accept(r, o);
                }
              }.bindService());
    return new LocalControlServer(home, 0, role, services, tf, group, group).start();
  }

  private Optional<Integer> run() {
    return DaemonCp.copy(home, REQUEST, new PrintWriter(out), new CpCommand.ProgressListener(false));
  }

  @Test
  void theDaemonsSummaryIsPrintedAndAFailedFileIsExitOne() throws Exception {
    try (LocalControlServer d = daemon("workstation", (r, o) -> {
      assertThat(r).isEqualTo(REQUEST);
      o.onNext(CopyEvent.newBuilder().setPlanned(Planned.newBuilder().setFiles(1).setBytes(5)).build());
      o.onNext(CopyEvent.newBuilder().setBytes(5).build());
      o.onNext(CopyEvent.newBuilder().setDone(Done.newBuilder().setOutput("failed: /src/a: gone\n").setOk(false)).build());
      o.onCompleted();
    })) {
      assertThat(run()).contains(1);
      assertThat(out.toString()).isEqualTo("failed: /src/a: gone\n");
    }
  }

  @Test
  void piecesOfTheOutputArePrintedInOrderBeforeTheDonesOwn() throws Exception {
    try (LocalControlServer d = daemon("workstation", (r, o) -> {
      o.onNext(CopyEvent.newBuilder().setOutput("{\n  \"files\" : 1,").build());
      o.onNext(CopyEvent.newBuilder().setOutput("\n  \"source\" : \"/src/ä/日本/😀\"\n}\n").build());
      o.onNext(CopyEvent.newBuilder().setDone(Done.newBuilder().setOk(true)).build());
      o.onCompleted();
    })) {
      assertThat(run()).contains(0);
      assertThat(out.toString()).isEqualTo("{\n  \"files\" : 1,\n  \"source\" : \"/src/ä/日本/😀\"\n}\n");
    }
  }

  @Test
  void theCommandAsksForItsOutputInPieces() {
    CpCommand c = new CpCommand();
    c.json = true;
    assertThat(c.request(CpSpec.parse(List.of("/src/a", "host:/dst/a"))).getOutputPieces()).isTrue();
  }

  @Test
  void withoutAWorkstationDaemonThatCopiesTheCommandCopiesItself() throws Exception {
    assertThat(run()).as("no daemon").isEmpty();
    try (LocalControlServer d = daemon("workstation", null)) {
      assertThat(run()).as("a daemon from before CpControl (UNIMPLEMENTED)").isEmpty();
    }
    try (LocalControlServer d = daemon("host", (r, o) -> { throw new AssertionError("a host daemon has no link to copy over"); })) {
      assertThat(run()).as("a host daemon").isEmpty();
    }
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void theDaemonsRefusalsBecomeTheCommandsOneLineErrors() throws Exception {
    try (LocalControlServer d = daemon("workstation", (r, o) ->
        o.onError(Status.INVALID_ARGUMENT.withDescription("cp: host:/etc is outside the permitted roots").asRuntimeException()))) {
      assertThatThrownBy(this::run).isInstanceOf(IllegalArgumentException.class).hasMessage("cp: host:/etc is outside the permitted roots");
    }
    try (LocalControlServer d = daemon("workstation", (r, o) ->
        o.onError(Status.FAILED_PRECONDITION.withDescription("no path to the host came up within 10 s").asRuntimeException()))) {
      assertThatThrownBy(this::run).isInstanceOf(IllegalStateException.class)
          .hasMessage("cp (in the workstation daemon): no path to the host came up within 10 s");
    }
    try (LocalControlServer d = daemon("workstation", (r, o) -> o.onCompleted())) {
      assertThatThrownBy(this::run).isInstanceOf(IllegalStateException.class).hasMessageContaining("without a summary");
    }
  }
}
