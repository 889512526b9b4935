package dev.thunderlink.daemon.cp;

import dev.thunderlink.proto.cpcontrol.CopyEvent;
import dev.thunderlink.proto.cpcontrol.CopyRequest;
import dev.thunderlink.proto.cpcontrol.CpControlGrpc;
import dev.thunderlink.proto.cpcontrol.Done;
import dev.thunderlink.proto.cpcontrol.Planned;
import dev.thunderlink.proto.cpcontrol.Waiting;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code thunderlink cp} in the workstation daemon: the command line sends what it parsed, the
 * copy runs here over the daemon's link, and the events go back for the progress bar and the
 * summary. A copy in a fresh command JVM first connects and runs cold: about 1.1 s for a
 * one-byte copy, most of it start-up.
 */
public final class CpControlService extends CpControlGrpc.CpControlImplBase {
  private static final long PROGRESS_EVERY_NANOS = 100_000_000L;

  private final CpLink link;
  private final Path home;

  /** Copies over {@code link}, opened with {@code home} (the daemon's). */
  public CpControlService(CpLink link, Path home) {
    this.link = link;
    this.home = home;
  }

  @Override
  public void copy(CopyRequest req, StreamObserver<CopyEvent> out) {
    ServerCallStreamObserver<CopyEvent> call = (ServerCallStreamObserver<CopyEvent>) out;
    AtomicReference<Copier> running = new AtomicReference<>();
    Runnable cancel =
        () -> {
          Copier c = running.get();
          if (c != null) {
            c.cancel();
          }
        };
    // The call's own cancel handler runs on the call's serialized executor, after this method
    // returns, so it would only see the copy end; the context hears of a cancelled call at once.
    Context.CancellationListener onCancel = ctx -> cancel.run();
    Context.current().addListener(onCancel, Runnable::run);
    call.setOnCancelHandler(cancel); // also keeps onNext quiet after a cancel
    List<String> operands = new ArrayList<>();
    if (req.getPush()) {
      operands.addAll(req.getSourcesList());
      operands.add(CpSpec.HOST_PREFIX + req.getDestination());
    } else {
      req.getSourcesList().forEach(s -> operands.add(CpSpec.HOST_PREFIX + s));
      operands.add(req.getDestination());
    }
    try {
      CpSpec spec = CpSpec.parse(operands);
      Events events = new Events(call);
      CopyReport report;
      try (CpLink.Connected c = link.open(home)) {
        Copier copier = new Copier(c, Duration.ofSeconds(req.getFailoverSeconds()));
        running.set(copier);
        if (Context.current().isCancelled()) {
          return;
        }
        report = copier.copy(spec, events).ranByDaemon();
      }
      Done.Builder done = Done.newBuilder().setOk(report.ok());
      if (req.getJson() && req.getOutputPieces()) {
        try (OutputPieces pieces = new OutputPieces(OutputPieces.MAX_PIECE,
            b -> events.send(CopyEvent.newBuilder().setOutputBytes(b).build()))) {
          CpCommand.writeJson(pieces, report);
        }
      } else { // the human summary (a few lines), or a command that takes its output whole
        StringWriter text = new StringWriter();
        CpCommand.print(new PrintWriter(text), report, req.getJson());
        done.setOutput(text.toString());
      }
      events.send(CopyEvent.newBuilder().setDone(done).build());
      synchronized (call) {
        call.onCompleted();
      }
    } catch (IllegalArgumentException e) {
      fail(call, Status.INVALID_ARGUMENT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(call, Status.CANCELLED, e);
    } catch (Exception e) {
      fail(call, Status.FAILED_PRECONDITION, e);
    } finally {
      Context.current().removeListener(onCancel);
    }
  }

  private static void fail(ServerCallStreamObserver<CopyEvent> call, Status status, Exception e) {
    synchronized (call) {
      if (!call.isCancelled()) {
        call.onError(status.withDescription(e.getMessage() == null ? e.toString() : e.getMessage()).asRuntimeException());
      }
    }
  }

  /** The copy's listener: its events onto the call, byte counts gathered to one every 100 ms. */
  private static final class Events implements Copier.Listener {
    private final ServerCallStreamObserver<CopyEvent> call;
    private long pending;
    private long lastSent = System.nanoTime();

    Events(ServerCallStreamObserver<CopyEvent> call) {
      this.call = call;
    }

    @Override
    public void planned(long files, long bytes) {
      send(CopyEvent.newBuilder().setPlanned(Planned.newBuilder().setFiles(files).setBytes(bytes)).build());
    }

    @Override
    public void waitingForHost(String why, Duration upTo) {
      send(CopyEvent.newBuilder().setWaiting(Waiting.newBuilder().setWhy(why).setUpToSeconds((int) Math.max(1, upTo.toSeconds()))).build());
    }

    @Override
    public void bytes(long n) {
      synchronized (call) {
        pending += n;
        long now = System.nanoTime();
        if (now - lastSent >= PROGRESS_EVERY_NANOS) {
          lastSent = now;
          sendBytes();
        }
      }
    }

    /** Sends {@code e} after the bytes not reported yet (one event at a time: the observer is not thread-safe). */
    void send(CopyEvent e) {
      synchronized (call) {
        sendBytes();
        if (!call.isCancelled()) {
          call.onNext(e);
        }
      }
    }

    private void sendBytes() {
      if (pending > 0 && !call.isCancelled()) {
        call.onNext(CopyEvent.newBuilder().setBytes(pending).build());
      }
      pending = 0;
    }
  }
}
