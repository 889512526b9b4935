package dev.thunderlink.daemon.cp;

import dev.thunderlink.proto.cpcontrol.CopyEvent;
import dev.thunderlink.proto.cpcontrol.CopyRequest;
import dev.thunderlink.proto.cpcontrol.CpControlGrpc;
import dev.thunderlink.transport.LocalControlServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Optional;

/**
 * The command-line half of a copy run by the workstation daemon ({@link CpControlService}):
 * sends the request, feeds the progress bar, prints the summary. Ctrl-C closes the connection,
 * which cancels the copy in the daemon.
 */
final class DaemonCp {
  private DaemonCp() {}

  /**
   * Runs the copy in the workstation daemon of {@code home}; the exit code, or empty when no
   * workstation daemon runs there (or it is one without this service) and the command should
   * copy over a link of its own.
   *
   * @throws IllegalArgumentException if the daemon refused the operands (a host path, say)
   * @throws IllegalStateException if the copy could not run, with the daemon's one line
   */
  static Optional<Integer> copy(Path home, CopyRequest request, PrintWriter out, CpCommand.ProgressListener progress) {
    if (!Files.exists(home.resolve("control.json"))) {
      return Optional.empty();
    }
    LocalControlServer.Connection c;
    try {
      c = LocalControlServer.connect(home);
    } catch (IOException e) {
      return Optional.empty(); // a daemon that is gone: its control.json outlived it
    }
    Thread cancel = new Thread(c::close, "thunderlink-cp-cancel");
    Runtime.getRuntime().addShutdownHook(cancel);
    boolean started = false;
    try (c; progress) {
      if (!c.role().equals("workstation")) {
        return Optional.empty();
      }
      Iterator<CopyEvent> events = CpControlGrpc.newBlockingStub(c.channel()).copy(request);
      while (events.hasNext()) {
        CopyEvent e = events.next();
        started = true;
        switch (e.getEventCase()) {
          case PLANNED -> progress.planned(e.getPlanned().getFiles(), e.getPlanned().getBytes());
          case BYTES -> progress.bytes(e.getBytes());
          case WAITING -> progress.waitingForHost(e.getWaiting().getWhy(), Duration.ofSeconds(e.getWaiting().getUpToSeconds()));
          case OUTPUT -> { // a piece of the JSON summary, whole characters
            progress.close();
            out.print(e.getOutput());
          }
          case DONE -> {
            progress.close();
            out.print(e.getDone().getOutput());
            out.flush();
            return Optional.of(e.getDone().getOk() ? 0 : 1);
          }
          default -> { } // an event of a newer daemon
        }
      }
      throw new IllegalStateException("cp: the workstation daemon ended the copy without a summary; see `thunderlink logs`");
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (!started && (code == Status.Code.UNIMPLEMENTED || code == Status.Code.UNAVAILABLE)) {
        return Optional.empty(); // an older daemon, or one that just stopped: nothing was copied by it
      }
      String why = e.getStatus().getDescription() == null ? code.toString() : e.getStatus().getDescription();
      if (code == Status.Code.INVALID_ARGUMENT) {
        throw new IllegalArgumentException(why, e);
      }
      throw new IllegalStateException(why.startsWith("cp: ") ? why : "cp (in the workstation daemon): " + why, e);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(cancel);
      } catch (IllegalStateException e) {
        // shutting down: the hook is running
      }
    }
  }
}
