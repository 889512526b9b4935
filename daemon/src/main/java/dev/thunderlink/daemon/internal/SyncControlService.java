package dev.thunderlink.daemon.internal;

import dev.thunderlink.proto.synccontrol.SyncConflictsResponse;
import dev.thunderlink.proto.synccontrol.SyncControlGrpc;
import dev.thunderlink.proto.synccontrol.SyncCreateRequest;
import dev.thunderlink.proto.synccontrol.SyncEvent;
import dev.thunderlink.proto.synccontrol.SyncEventsRequest;
import dev.thunderlink.proto.synccontrol.SyncFlushRequest;
import dev.thunderlink.proto.synccontrol.SyncListRequest;
import dev.thunderlink.proto.synccontrol.SyncListResponse;
import dev.thunderlink.proto.synccontrol.SyncNameRequest;
import dev.thunderlink.proto.synccontrol.SyncResumeRequest;
import dev.thunderlink.proto.synccontrol.SyncSessionStatus;
import dev.thunderlink.proto.synccontrol.SyncTerminateResponse;
import dev.thunderlink.sync.SyncConflict;
import dev.thunderlink.sync.SyncSessions;
import dev.thunderlink.sync.SyncStatus;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code thunderlink sync ...} on the workstation's control endpoint, over the session
 * registry. Runs on gRPC's executor; the registry is thread-safe.
 *
 * <p>The event stream carries two things: each change the engines make or meet (applied,
 * conflict, error, paused, halted), pushed as it happens through a per-subscriber queue that
 * the single events thread drains while the stream is ready (a subscriber too slow to keep
 * {@value #MAX_BACKLOG} events in hand is told how many it missed); and the sessions'
 * counters (progress), sampled every 100 ms while a subscriber is connected (and not
 * otherwise). Every {@code onNext} of a stream runs on the events thread.
 */
public final class SyncControlService extends SyncControlGrpc.SyncControlImplBase implements AutoCloseable {
  static final int MAX_BACKLOG = 10_000;
  private final SyncSessions sessions;
  private final java.util.concurrent.atomic.AtomicInteger subscribers = new java.util.concurrent.atomic.AtomicInteger();
  private final ScheduledExecutorService events =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "thunderlink-sync-events");
            t.setDaemon(true);
            return t;
          });

  public SyncControlService(SyncSessions sessions) {
    this.sessions = sessions;
  }

  @FunctionalInterface
  private interface Call<T> {
    T run() throws Exception;
  }

  private static <T> void answer(StreamObserver<T> out, Call<T> call) {
    try {
      out.onNext(call.run());
      out.onCompleted();
    } catch (IllegalArgumentException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
    } catch (TimeoutException e) {
      out.onError(Status.DEADLINE_EXCEEDED.withDescription(e.getMessage()).asRuntimeException());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.onError(Status.CANCELLED.withDescription("interrupted").asRuntimeException());
    } catch (IOException | RuntimeException e) {
      out.onError(Status.FAILED_PRECONDITION.withDescription(String.valueOf(e.getMessage())).asRuntimeException());
    } catch (Exception e) {
      out.onError(Status.INTERNAL.withDescription(String.valueOf(e.getMessage())).asRuntimeException());
    }
  }

  @Override
  public void create(SyncCreateRequest r, StreamObserver<SyncSessionStatus> out) {
    answer(out, () -> {
      if (r.getName().isBlank()) {
        throw new IllegalArgumentException("NAME: empty (expected: a session name)");
      }
      if (r.getLocalRoot().isBlank() || !Path.of(r.getLocalRoot()).isAbsolute()) {
        throw new IllegalArgumentException("--local: " + r.getLocalRoot() + " (expected: an absolute path)");
      }
      if (r.getRemoteRoot().isBlank()) {
        throw new IllegalArgumentException("--remote: empty (expected: a path on the host)");
      }
      // unsigned on the wire: checked as sent (4294967295, not the -1 an int reads it as)
      SyncSessions.checkMassDeletion(
          r.hasMassDeletionPercent() ? Integer.toUnsignedLong(r.getMassDeletionPercent()) : null,
          r.hasMassDeletionMinEntries() ? Integer.toUnsignedLong(r.getMassDeletionMinEntries()) : null);
      String vcs = r.getVcs().isEmpty() ? "sync" : r.getVcs();
      if (!vcs.equals("sync") && !vcs.equals("ignore")) {
        throw new IllegalArgumentException("--vcs: " + vcs + " (expected: sync or ignore)");
      }
      SyncStatus s =
          sessions.create(
              new SyncSessions.Definition(
                  r.getName(),
                  r.getLocalRoot(),
                  r.getRemoteRoot(),
                  r.getMode().isEmpty() ? null : r.getMode(),
                  r.getIgnoresList(),
                  r.getUseGitignoreFiles(),
                  vcs.equals("ignore"),
                  r.getOutsideSymlinks().isEmpty() ? "refuse" : r.getOutsideSymlinks(),
                  false,
                  r.hasMassDeletionPercent() ? r.getMassDeletionPercent() : null,
                  r.hasMassDeletionMinEntries() ? r.getMassDeletionMinEntries() : null));
      if (r.getWaitSeconds() > 0) {
        sessions.awaitFirstSync(r.getName(), Duration.ofSeconds(r.getWaitSeconds()));
        return toProto(sessions.status(r.getName())).toBuilder().setFirstSyncDone(true).build();
      }
      return toProto(s);
    });
  }

  @Override
  public void list(SyncListRequest r, StreamObserver<SyncListResponse> out) {
    answer(out, () -> {
      SyncListResponse.Builder b = SyncListResponse.newBuilder();
      for (SyncStatus s : sessions.list()) {
        b.addSessions(toProto(s));
      }
      return b.build();
    });
  }

  @Override
  public void status(SyncNameRequest r, StreamObserver<SyncSessionStatus> out) {
    answer(out, () -> toProto(sessions.status(r.getName())));
  }

  @Override
  public void conflicts(SyncNameRequest r, StreamObserver<SyncConflictsResponse> out) {
    answer(out, () -> {
      SyncConflictsResponse.Builder b = SyncConflictsResponse.newBuilder();
      for (SyncConflict c : sessions.conflicts(r.getName())) {
        b.addConflicts(
            dev.thunderlink.proto.synccontrol.SyncConflict.newBuilder()
                .setPath(c.path())
                .setCopyPath(c.copyPath() == null ? "" : c.copyPath())
                .setDevice(c.device() == null ? "" : c.device())
                .setAtUnixMillis(c.atMillis())
                .setReason(c.reason() == null ? "" : c.reason()));
      }
      return b.build();
    });
  }

  @Override
  public void pause(SyncNameRequest r, StreamObserver<SyncSessionStatus> out) {
    answer(out, () -> {
      sessions.pause(r.getName());
      return toProto(sessions.status(r.getName()));
    });
  }

  @Override
  public void resume(SyncResumeRequest r, StreamObserver<SyncSessionStatus> out) {
    answer(out, () -> {
      sessions.resume(r.getName(), r.getForce());
      return toProto(sessions.status(r.getName()));
    });
  }

  @Override
  public void terminate(SyncNameRequest r, StreamObserver<SyncTerminateResponse> out) {
    answer(out, () -> {
      sessions.terminate(r.getName());
      return SyncTerminateResponse.newBuilder().setName(r.getName()).build();
    });
  }

  @Override
  public void flush(SyncFlushRequest r, StreamObserver<SyncSessionStatus> out) {
    answer(out, () -> {
      int t = r.getTimeoutSeconds() == 0 ? 60 : r.getTimeoutSeconds();
      sessions.flush(r.getName(), Duration.ofSeconds(t));
      return toProto(sessions.status(r.getName()));
    });
  }

  @Override
  public void events(SyncEventsRequest r, StreamObserver<SyncEvent> out) {
    ServerCallStreamObserver<SyncEvent> call = (ServerCallStreamObserver<SyncEvent>) out;
    java.util.Queue<SyncEvent> backlog = new java.util.concurrent.ConcurrentLinkedQueue<>();
    java.util.concurrent.atomic.AtomicInteger queued = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
    Runnable drain = () -> {
      while (!call.isCancelled() && call.isReady()) {
        long missed = dropped.getAndSet(0);
        if (missed > 0) {
          call.onNext(SyncEvent.newBuilder().setAtUnixMillis(System.currentTimeMillis()).setKind("dropped")
              .setDetail(missed + " changes not delivered: the subscriber read too slowly").build());
          continue;
        }
        SyncEvent e = backlog.poll();
        if (e == null) {
          return;
        }
        queued.decrementAndGet();
        call.onNext(e);
      }
    };
    AutoCloseable subscription = sessions.subscribe(c -> {
      if (!r.getName().isEmpty() && !r.getName().equals(c.session())) {
        return;
      }
      if (queued.incrementAndGet() > MAX_BACKLOG) {
        queued.decrementAndGet();
        dropped.incrementAndGet();
        return;
      }
      backlog.add(SyncEvent.newBuilder().setAtUnixMillis(c.atMillis())
          .setKind(c.kind().name().toLowerCase(java.util.Locale.ROOT))
          .setStatus(SyncSessionStatus.newBuilder().setName(c.session())).setPath(c.path())
          .setDetail(c.detail()).build());
      try {
        events.execute(drain);
      } catch (java.util.concurrent.RejectedExecutionException closed) {
        // shutting down
      }
    });
    subscribers.incrementAndGet();
    call.setOnReadyHandler(() -> {
      try {
        events.execute(drain);
      } catch (java.util.concurrent.RejectedExecutionException closed) {
        // shutting down
      }
    });
    Map<String, SyncSessionStatus> last = new HashMap<>();
    ScheduledFuture<?>[] task = new ScheduledFuture<?>[1];
    task[0] =
        events.scheduleWithFixedDelay(
            () -> {
              if (call.isCancelled()) {
                task[0].cancel(false);
                return;
              }
              if (!call.isReady()) {
                return; // a slow subscriber gets the latest state later, not a backlog
              }
              List<SyncStatus> now = sessions.list();
              Map<String, SyncSessionStatus> seen = new HashMap<>();
              for (SyncStatus s : now) {
                if (!r.getName().isEmpty() && !r.getName().equals(s.name())) {
                  continue;
                }
                SyncSessionStatus p = toProto(s);
                seen.put(s.name(), p);
                SyncSessionStatus before = last.get(s.name());
                if (before == null || !sameCounters(before, p)) {
                  call.onNext(SyncEvent.newBuilder().setAtUnixMillis(System.currentTimeMillis()).setKind("changed").setStatus(p).build());
                }
              }
              for (String gone : last.keySet()) {
                if (!seen.containsKey(gone)) {
                  call.onNext(
                      SyncEvent.newBuilder()
                          .setAtUnixMillis(System.currentTimeMillis())
                          .setKind("terminated")
                          .setStatus(SyncSessionStatus.newBuilder().setName(gone))
                          .build());
                }
              }
              last.clear();
              last.putAll(seen);
            },
            0,
            100,
            TimeUnit.MILLISECONDS);
    call.setOnCancelHandler(() -> {
      task[0].cancel(false);
      subscribers.decrementAndGet();
      try {
        subscription.close();
      } catch (Exception ignored) {
        // unsubscribing cannot fail
      }
    });
  }

  /** Event streams open now (tests wait for a subscription to be in place). */
  int subscribers() {
    return subscribers.get();
  }

  private static boolean sameCounters(SyncSessionStatus a, SyncSessionStatus b) {
    return a.toBuilder().clearLastCycleMillis().build().equals(b.toBuilder().clearLastCycleMillis().build());
  }

  static SyncSessionStatus toProto(SyncStatus s) {
    return toProto(s, System.currentTimeMillis());
  }

  static SyncSessionStatus toProto(SyncStatus s, long nowMillis) {
    return SyncSessionStatus.newBuilder()
        .setProgress(progress(s, nowMillis))
        .setName(s.name())
        .setMode(nz(s.mode()))
        .setState(nz(s.state()))
        .setHaltReason(nz(s.haltReason()))
        .setLastError(nz(s.lastError()))
        .setLocalEntries(s.localEntries())
        .setRemoteEntries(s.remoteEntries())
        .setCycles(s.cycles())
        .setOpsApplied(s.opsApplied())
        .setFilesTransferred(s.filesTransferred())
        .setBytesSent(s.bytesSent())
        .setBytesReused(s.bytesReused())
        .setRenamesApplied(s.renamesApplied())
        .setConflicts(s.conflicts())
        .putAllErrors(s.errors())
        .addAllCollisions(s.collisions())
        .setLastCycleMillis(s.lastCycleMillis())
        .setLocalRoot(nz(s.localRoot()))
        .setRemoteRoot(nz(s.remoteRoot()))
        .setFirstSyncDone(s.firstSyncDone())
        .setWaiting(nz(s.waiting()))
        .setMassDeletionPercent(s.massDeletionPercent())
        .setMassDeletionMinEntries(s.massDeletionMinEntries())
        .build();
  }

  /**
   * The plan's progress as numbers: its rate is over the time since it started while it runs,
   * over its whole run once it is over (so an idle session's status stays the same, and an
   * event stream sends no change for it).
   */
  static dev.thunderlink.proto.synccontrol.SyncProgress progress(SyncStatus s, long nowMillis) {
    var p = dev.thunderlink.proto.synccontrol.SyncProgress.newBuilder()
        .setOps(s.planOps()).setOpsDone(s.planOpsDone()).setBytes(s.planBytes()).setBytesDone(s.planBytesDone())
        .setStartedUnixMillis(s.planStartedMillis()).setActive(s.planActive()).setEtaSeconds(-1);
    if (s.planStartedMillis() <= 0) {
      return p.build();
    }
    long end = s.planActive() ? nowMillis : Math.max(s.planFinishedMillis(), s.planStartedMillis());
    double seconds = Math.max(1, end - s.planStartedMillis()) / 1000.0;
    double rate = s.planBytesDone() / seconds;
    p.setBytesPerSecond(rate);
    if (!s.planActive()) {
      p.setEtaSeconds(0);
    } else if (s.planBytes() > 0 && rate > 0) {
      p.setEtaSeconds(Math.max(0, s.planBytes() - s.planBytesDone()) / rate);
    } else if (s.planBytes() == 0 && s.planOpsDone() > 0) {
      p.setEtaSeconds(Math.max(0, s.planOps() - s.planOpsDone()) / (s.planOpsDone() / seconds));
    }
    return p.build();
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  @Override
  public void close() {
    events.shutdownNow();
  }
}
