package dev.thunderlink.sync.internal;

import dev.thunderlink.sync.SyncConflict;
import dev.thunderlink.sync.SyncMode;
import dev.thunderlink.sync.internal.Reconciler.Action;
import java.io.IOException;
import java.time.Clock;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The coordinator of one session: it pulls index deltas from both endpoints, reconciles the
 * changed paths three ways against the ancestor, plans and executes the operations, and
 * records each agreed state in the ancestor table as soon as it holds on both sides.
 *
 * <p>Design. The coordinator keeps an in-memory view of each side's index (rebuilt from
 * the endpoints' own persistent indexes on start, which costs no hashing) and the ancestor
 * (persisted). A cycle touches only the paths whose entries changed ("dirty"), widened to
 * the subtrees of dirty directories. Per path the pure {@link Reconciler} decides; the
 * planner then fixes what a per-path view cannot see: a directory is not deleted while a
 * child survives on that side (it is recreated on the other instead), creations that would
 * collide by case on a case-insensitive side are held back and reported, and a deletion plus
 * a creation of the same content on one side become a rename. Operations run in an order
 * that keeps every intermediate tree valid: conflict copies, directories (shallow first),
 * renames, deletions (deep first), then files and links. Each carries the state the
 * coordinator saw; an endpoint that finds something else answers CHANGED and the path is
 * rescanned and reconciled again on the next iteration, so nothing unseen is clobbered.
 *
 * <p>Threads: not thread-safe. One session thread runs every method; counters read by
 * {@code status} are atomics and the error maps concurrent.
 */
public final class SessionEngine {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SessionEngine.class);
  /** Per-cycle phase timings, apart from the per-path log so it can be enabled alone. */
  private static final org.slf4j.Logger timing =
      org.slf4j.LoggerFactory.getLogger(SessionEngine.class.getName() + ".timing");
  private final String name;
  private final SyncMode mode;
  private final Endpoint local;
  private final Endpoint remote;
  private final StateStore state;
  private final int blockSize;
  private final double safetyFraction;
  private final int safetyMinimum;
  private final Clock clock;

  private final TreeMap<String, Entry> ancestor = new TreeMap<>();
  private final TreeMap<String, Entry> viewL = new TreeMap<>();
  private final TreeMap<String, Entry> viewR = new TreeMap<>();
  private final Map<String, Set<String>> caseGroups = new HashMap<>();
  private long seenL;
  private long seenR;
  /** Apply results recorded in viewL / viewR that their side need not send back (see {@link Receipts}). */
  private final Receipts heldL = new Receipts();
  private final Receipts heldR = new Receipts();
  private boolean primed;
  /** The local side's {@link Endpoint#ignoreRulesVersion} as of the last cycle. */
  private long rulesSeen;
  /**
   * Paths left out because the workstation's rules ignored them (kept in the state database
   * with the ancestor, so a restart in between does not forget them): once no longer ignored,
   * each waits until both sides' rule files are the same (the other side then looked at it
   * again under the same rules), so that a side's view from before (a host that still ignores
   * a file it deleted meanwhile) is not taken for agreement.
   */
  private final Set<String> leftIgnored = new HashSet<>();
  /** Rule files ({@link IgnoreRules#isRulesFile}) either side has reported. */
  private final Set<String> ruleFiles = new TreeSet<>();
  private final Set<String> rescanL = new HashSet<>();
  private final Set<String> rescanR = new HashSet<>();
  private final Set<String> reportedCollisions = new HashSet<>();
  /** Paths to reconcile again next cycle (conflict copies made, CHANGED answers, a halted plan). */
  private final Set<String> carry = new TreeSet<>();
  /** Ancestor rows agreed during this cycle's execution, written in one transaction at its end. */
  private final Map<String, Entry> agreedThisCycle = new HashMap<>();
  /** Threads for the last phase's file I/O; null runs everything on the session thread. */
  private final java.util.concurrent.ExecutorService transfers;

  final AtomicLong cycles = new AtomicLong();
  /** Cycles asked to scan both sides in full (a flush's, a periodic rescan's): tests. */
  private final AtomicLong fullCycles = new AtomicLong();
  final AtomicLong opsApplied = new AtomicLong();
  final AtomicLong filesTransferred = new AtomicLong();
  final AtomicLong bytesSent = new AtomicLong();
  final AtomicLong bytesReused = new AtomicLong();
  final AtomicLong renames = new AtomicLong();
  /** Progress of the plan being executed (read by status from any thread). */
  public final AtomicLong planOps = new AtomicLong();
  public final AtomicLong planOpsDone = new AtomicLong();
  public final AtomicLong planBytes = new AtomicLong();
  public final AtomicLong planBytesDone = new AtomicLong();
  /**
   * Time spent in batched calls this cycle, summed over the transfer threads (so it can
   * exceed the wall clock): reading whole files from the source, writing them to the
   * destination, applying non-content ops. For the timing log only.
   */
  private final AtomicLong readNanos = new AtomicLong();
  private final AtomicLong writeNanos = new AtomicLong();
  private final AtomicLong opNanos = new AtomicLong();
  public volatile long planStartedMillis;
  /** When the plan's steps were over (carried out, failed or given up), 0 before the first. */
  public volatile long planFinishedMillis;
  /** True while a plan's steps run. */
  public volatile boolean planActive;
  /** Keys of {@link #errors()} for a side's unwatched tree: not paths (status shows them beside the paths' problems). */
  static final String WATCH_LOCAL = "local:(watch)";
  static final String WATCH_REMOTE = "remote:(watch)";
  /** Why a side's tree is not watched, as of the last cycle's scans ("" while it is). */
  private volatile String localWatchProblem = "";
  private volatile String remoteWatchProblem = "";
  private final Map<String, String> errors = new ConcurrentHashMap<>();

  /** Receives each change as the engine makes or meets it; called on the session thread. */
  public interface ChangeListener {
    /** @param kind "applied", "conflict" or "error" */
    void onChange(String kind, String path, String detail);
  }

  private volatile ChangeListener changeListener = (k, p, d) -> { };

  /** Sets the listener of per-path changes (it must not block: it runs on the session thread). */
  public void onChange(ChangeListener listener) {
    this.changeListener = listener;
  }

  private void emit(String kind, String path, String detail) {
    try {
      changeListener.onChange(kind, path, detail);
    } catch (RuntimeException e) {
      log.warn("sync {}: a change listener failed: {}", name, e.toString());
    }
  }
  private volatile List<String> collisions = List.of();
  /** When a side first reported pending changes since the last cycle began (nanoTime); 0: none. */
  private final AtomicLong noticedNanos = new AtomicLong();
  /** Where this cycle's propagation latencies are measured from; session thread. */
  private long cycleFromNanos;
  private volatile java.util.function.Consumer<java.time.Duration> onPropagated = d -> {};

  /** Thrown when a plan trips a safety stop; the session halts until resumed with force. */
  public static final class SafetyStop extends Exception {
    private final boolean kept;

    public SafetyStop(String message) {
      this(message, false);
    }

    /**
     * @param kept whether the stop must outlive a restart of the daemon: a plan's deletions, which
     *     a restarted engine may not see as one again (the sizes of the last minute are kept in
     *     memory); a missing root is seen again, and is gone once the folder is back
     */
    public SafetyStop(String message, boolean kept) {
      super(message);
      this.kept = kept;
    }

    public boolean kept() {
      return kept;
    }
  }

  public SessionEngine(String name, SyncMode mode, Endpoint local, Endpoint remote, StateStore state, int blockSize,
      double safetyFraction, int safetyMinimum, Clock clock) throws IOException {
    this.name = name;
    this.mode = mode;
    this.local = local;
    this.remote = remote;
    this.state = state;
    this.blockSize = blockSize;
    this.safetyFraction = safetyFraction;
    this.safetyMinimum = safetyMinimum;
    this.clock = clock;
    ancestor.putAll(state.loadAncestor());
    leftIgnored.addAll(state.loadLeftIgnored());
    this.transfers = java.util.concurrent.Executors.newFixedThreadPool(8, r -> {
      Thread t = new Thread(r, "sync-" + name + "-transfer");
      t.setDaemon(true);
      return t;
    });
  }

  /** Stops the transfer threads (after the session thread has stopped). */
  public void close() {
    transfers.shutdownNow();
  }

  /** See {@code SyncSession#onPropagated}. Any thread. */
  public void onPropagated(java.util.function.Consumer<java.time.Duration> c) {
    onPropagated = java.util.Objects.requireNonNull(c);
  }

  /**
   * A side reported pending changes (watcher thread): the propagation latency of what the next
   * cycle applies is measured from the first such report. Any thread.
   */
  public void changeNoticed() {
    long now = System.nanoTime();
    noticedNanos.compareAndSet(0, now == 0 ? 1 : now);
  }

  private void propagated() {
    try {
      onPropagated.accept(java.time.Duration.ofNanos(System.nanoTime() - cycleFromNanos));
    } catch (RuntimeException e) {
      log.warn("propagation listener failed: {}", e.toString());
    }
  }

  /** A side's tree is not watched (as of the last cycle): its changes are found by scans only. */
  public boolean unwatched() {
    return !localWatchProblem.isEmpty() || !remoteWatchProblem.isEmpty();
  }

  /** Per-path problems, and under {@link #WATCH_LOCAL} / {@link #WATCH_REMOTE} a side's unwatched tree. */
  public Map<String, String> errors() {
    if (!unwatched()) {
      return Map.copyOf(errors);
    }
    Map<String, String> out = new HashMap<>(errors);
    if (!localWatchProblem.isEmpty()) {
      out.put(WATCH_LOCAL, localWatchProblem);
    }
    if (!remoteWatchProblem.isEmpty()) {
      out.put(WATCH_REMOTE, remoteWatchProblem);
    }
    return Map.copyOf(out);
  }

  public List<String> collisions() {
    return collisions;
  }

  public long localEntries() {
    return viewL.size();
  }

  public long remoteEntries() {
    return viewR.size();
  }

  public long cycles() {
    return cycles.get();
  }

  public long opsApplied() {
    return opsApplied.get();
  }

  public long filesTransferred() {
    return filesTransferred.get();
  }

  public long bytesSent() {
    return bytesSent.get();
  }

  public long bytesReused() {
    return bytesReused.get();
  }

  public long renames() {
    return renames.get();
  }

  public List<SyncConflict> conflicts() throws IOException {
    List<SyncConflict> out = new ArrayList<>();
    for (StateStore.ConflictRow r : state.conflicts()) {
      out.add(new SyncConflict(r.path(), r.copyPath(), r.device(), r.atMillis(), r.reason()));
    }
    return out;
  }

  /** Runs cycles until one finds nothing to do; returns the number of operations applied. */
  public int runUntilStable(boolean full, boolean force) throws IOException, SafetyStop {
    return runUntilStable(full, force, () -> true);
  }

  /** As above, stopping early (between cycles) once {@code proceed} turns false. */
  public int runUntilStable(boolean full, boolean force, java.util.function.BooleanSupplier proceed)
      throws IOException, SafetyStop {
    return runUntilStable(full, force, proceed, () -> { });
  }

  /**
   * As above, running {@code settled} after each cycle that carried out everything it planned
   * and left nothing for the next one (no operation unsettled, nothing carried: a conflict's
   * copy still to travel, a rename's source to look at again, a path a side could not read):
   * the cycle after it only confirms it.
   */
  public int runUntilStable(boolean full, boolean force, java.util.function.BooleanSupplier proceed, Runnable settled)
      throws IOException, SafetyStop {
    int total = 0;
    try {
      for (int i = 0; i < 50 && proceed.getAsBoolean(); i++) {
        CycleResult r = cycle(full && i == 0, force);
        if (!r.held) {
          waiting = "";
        }
        if (r.unsettled == 0 && carry.isEmpty()) {
          settled.run();
        }
        total += r.applied;
        if (r.applied == 0 && r.unsettled == 0) {
          return total;
        }
        if (r.held) {
          try {
            Thread.sleep(DELETION_QUIET_MILLIS); // the rest of the burst reaches the watcher meanwhile
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return total;
          }
        }
      }
    } finally {
      waiting = "";
    }
    if (!proceed.getAsBoolean()) {
      return total;
    }
    throw new NotSettled("changes keep coming after 50 cycles; still unsettled: " + carry);
  }

  /**
   * Why the running cycles hold their plan back, for {@code sync status}: a burst of deletions
   * still growing ({@link #DELETION_BURST}), with how many each side would lose so far; empty
   * when they do not. Any thread.
   */
  public String waiting() {
    return waiting;
  }

  /** How many cycles were asked to scan both sides in full (tests). */
  public long fullCycles() {
    return fullCycles.get();
  }

  /** Cycles kept finding work (a path rewritten faster than it syncs, or a livelock). */
  public static final class NotSettled extends IOException {
    NotSettled(String message) {
      super(message);
    }
  }

  /** {@code held}: the plan waited for a burst of deletions to end ({@link #DELETION_BURST}). */
  record CycleResult(int applied, int unsettled, boolean held) {
    CycleResult(int applied, int unsettled) {
      this(applied, unsettled, false);
    }
  }

  /**
   * Deletions a cycle would make on one side from which, while their number still grows from
   * one look to the next, the plan waits ({@link #DELETION_QUIET} between looks) instead of
   * carrying them out: an {@code rm -rf} of a whole tree reaches the watcher in pieces, a few
   * thousand per cycle, none of them "most of the tree", so the safety stop saw each piece
   * alone and every piece crossed (a 20,000-file tree kept 3,925 files on the other side before
   * the root's own deletion stopped the session). Once the count holds still, the safety check
   * sees the whole deletion.
   */
  static final int DELETION_BURST = 100;
  static final long DELETION_QUIET_MILLIS = 500;
  /** Per side (local, remote), the most deletions a look at the current burst saw; 0 between bursts. */
  private final int[] burstSeen = new int[2];
  /** See {@link #waiting()}; written by the session's thread. */
  private volatile String waiting = "";

  private void absorb(Endpoint.ChangeSet cs, TreeMap<String, Entry> view, Set<String> dirty) {
    for (Map.Entry<String, Entry> c : cs.changes().entrySet()) {
      String p = c.getKey();
      Entry before = c.getValue() == null ? view.remove(p) : view.put(p, c.getValue());
      if (!Entry.sameContent(before, c.getValue()) || !Entry.sameTimes(before, c.getValue()) || !primed) {
        dirty.add(p);
      }
      caseGroups.computeIfAbsent(PathNames.collisionKey(p), k -> new TreeSet<>()).add(p);
      if (IgnoreRules.isRulesFile(p)) {
        ruleFiles.add(p);
      }
    }
  }

  CycleResult cycle(boolean full, boolean force) throws IOException, SafetyStop {
    cycles.incrementAndGet();
    if (full) {
      fullCycles.incrementAndGet();
    }
    long t0 = System.nanoTime();
    long noticed = noticedNanos.getAndSet(0);
    cycleFromNanos = noticed != 0 ? noticed : t0;
    Endpoint.ChangeSet[] sides = changesOfBoth(full);
    Endpoint.ChangeSet cl = relistIfReopened(local, sides[0], heldL, seenL, viewL);
    Endpoint.ChangeSet cr = relistIfReopened(remote, sides[1], heldR, seenR, viewR);
    long t2 = System.nanoTime();
    rescanL.clear();
    rescanR.clear();
    if (cl.rootMissing()) {
      throw new SafetyStop("the local root is missing; not propagating the deletion of the whole tree");
    }
    if (cr.rootMissing()) {
      throw new SafetyStop("the remote root is missing; not propagating the deletion of the whole tree");
    }
    errors.keySet().removeIf(k -> k.startsWith("local:") || k.startsWith("remote:"));
    cl.errors().forEach((p, m) -> errors.put("local:" + p, m));
    cr.errors().forEach((p, m) -> errors.put("remote:" + p, m));
    localWatchProblem = cl.watchProblem();
    remoteWatchProblem = cr.watchProblem();
    List<String> coll = new ArrayList<>();
    cl.collisions().forEach(p -> coll.add(local.info().deviceName() + ":" + p));
    cr.collisions().forEach(p -> coll.add(remote.info().deviceName() + ":" + p));

    TreeSet<String> dirty = new TreeSet<>(carry);
    carry.clear();
    absorb(cl, viewL, dirty);
    absorb(cr, viewR, dirty);
    seenL = cl.lastSeq();
    seenR = cr.lastSeq();
    heldL.answered(cl);
    heldR.answered(cr);
    long rules = local.ignoreRulesVersion();
    Set<String> leftAdded = new HashSet<>();
    Set<String> leftDropped = new HashSet<>();
    if (!primed || rules != rulesSeen) {
      // everything, on the first cycle and after the ignore rules changed: a path they now
      // ignore leaves the ancestor, one they no longer ignore is looked at again
      dirty.addAll(ancestor.keySet());
      dirty.addAll(viewL.keySet());
      dirty.addAll(viewR.keySet());
      if (primed) {
        // the rule file reaches the host in this cycle: the next one has it look at its tree
        // again under it (its watch does not report the applier's own writes)
        rescanR.addAll(ruleFiles);
      }
      for (String p : leftIgnored) { // gone from both sides since: nothing left to wait for
        if (!ancestor.containsKey(p) && !viewL.containsKey(p) && !viewR.containsKey(p)) {
          leftDropped.add(p);
        }
      }
      leftIgnored.removeAll(leftDropped);
      primed = true;
      rulesSeen = rules;
    }
    // a side's scan errors must not read as deletions: leave those paths alone this cycle
    Set<String> frozen = new HashSet<>(cl.errors().keySet());
    frozen.addAll(cr.errors().keySet());
    frozen.addAll(cl.collisions());
    frozen.addAll(cr.collisions());
    widen(dirty);

    Map<String, Action> decisions = new TreeMap<>();
    Map<String, Entry> agreed = new HashMap<>();
    Boolean ruleFilesDiffer = null;
    for (String p : dirty) {
      if (frozen.contains(p) || underFrozen(p, frozen)) {
        carry.add(p); // reconcile once the side can be read again
        continue;
      }
      if (ignoredHere(p)) {
        // not synced while ignored, and not remembered as synced: once the rules let it go
        // again, a side without it gets it back rather than the other losing it (a deletion
        // made while ignored is not propagated), as Mutagen and Syncthing treat ignored paths
        if (ancestor.containsKey(p)) {
          agreed.put(p, null);
        }
        if (leftIgnored.add(p)) {
          leftAdded.add(p);
        }
        continue;
      }
      if (!leftIgnored.isEmpty() && leftIgnored.contains(p)) {
        if (ruleFilesDiffer == null) {
          ruleFilesDiffer = ruleFilesDiffer();
        }
        if (ruleFilesDiffer) {
          // next cycle, once the rule file has crossed: the host looks at its tree again under
          // it (a rule file among the hints is a full scan there), not only if its watch says so
          carry.add(p);
          rescanR.addAll(ruleFiles);
          continue;
        }
        leftIgnored.remove(p);
        leftDropped.add(p);
      }
      Action a = Reconciler.reconcile(mode, ancestor.get(p), viewL.get(p), viewR.get(p));
      if ((a == Action.AGREE || a == Action.NONE) && Entry.sameTimes(viewL.get(p), viewR.get(p))) {
        // both sides hold the same now: an apply that failed on the path is no longer a problem
        // (a soak's status kept one from a host killed mid-apply after the sides agreed again)
        errors.remove(p);
      }
      if (a == Action.AGREE) {
        agreed.put(p, agreedEntry(viewL.get(p), viewR.get(p)));
      } else if (a != Action.NONE) {
        decisions.put(p, a);
      }
    }
    keepDirectoriesWithSurvivors(decisions);
    holdBackCollisions(decisions, coll);
    collisions = List.copyOf(coll);
    if (!agreed.isEmpty() || !leftAdded.isEmpty() || !leftDropped.isEmpty()) {
      state.writeAncestor(agreed, leftAdded, leftDropped);
      agreed.forEach((p, e) -> putOrRemove(ancestor, p, e));
    }
    int[] deletions = force ? null : deletions(decisions); // per side, for the burst wait and the safety check
    if (!force && deletionBurstGrowing(deletions)) {
      List<String> planned = new ArrayList<>(2);
      for (int side = 0; side < 2; side++) {
        if (burstSeen[side] > 0) {
          planned.add(burstSeen[side] + " planned on " + (side == 0 ? local : remote).info().deviceName());
        }
      }
      waiting = "a burst of deletions is still growing (" + String.join(", ", planned)
          + "); the safety check waits for it to end";
      log.info("sync {}: {}", name, waiting);
      carry.addAll(dirty);
      return new CycleResult(0, decisions.size(), true);
    }
    if (!force) {
      try {
        checkSafety(deletions);
      } catch (SafetyStop e) {
        carry.addAll(dirty);
        if (!full) {
          // a watcher reports a folder's rename as the old folder's deletion at once and the new
          // folder's contents a moment later (once it watches and walks it): a cycle between the
          // two saw only the deletion. Both sides in full first; a rename then pairs up, and a
          // real mass deletion stops again.
          log.info("sync {}: {}; scanning both sides in full before stopping", name, e.getMessage());
          return cycle(true, false);
        }
        throw e;
      }
    }
    long t3 = System.nanoTime();
    readNanos.set(0);
    writeNanos.set(0);
    opNanos.set(0);
    CycleResult result;
    try {
      result = execute(decisions);
      if (force) {
        recentSizes[0].clear(); // confirmed: the sizes before it no longer count against the next plan
        recentSizes[1].clear();
      }
    } catch (IOException | RuntimeException e) {
      // a plan cut short (peer lost, disk full) is reconciled again in full next time: the
      // steps not yet run are not in any later change set
      carry.addAll(decisions.keySet());
      throw e;
    }
    long t4 = System.nanoTime();
    // a cycle that moved many entries or took long says where its time went (an initial sync,
    // a big checkout); the many small ones stay at debug
    boolean big = decisions.size() >= 1000 || t4 - t0 >= 2_000_000_000L;
    timing.atLevel(big ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.DEBUG).log(
        "sync {}: cycle {}{} in {} ms: local changes {} in {} ms, remote changes {} in {} ms"
            + " (side by side), reconcile {} paths in {} ms, execute {} decisions in {} ms (batched calls, summed over"
            + " threads: read files {} ms, write files {} ms, ops {} ms)", name, cycles.get(), full ? " (full)" : "",
        (t4 - t0) / 1_000_000, cl.changes().size(), localChangesNanos / 1_000_000, cr.changes().size(),
        remoteChangesNanos / 1_000_000, dirty.size(), (t3 - t2) / 1_000_000, decisions.size(), (t4 - t3) / 1_000_000,
        readNanos.get() / 1_000_000, writeNanos.get() / 1_000_000, opNanos.get() / 1_000_000);
    return result;
  }

  /** Whether a rule file is not the same on both sides as far as they have reported. */
  private boolean ruleFilesDiffer() {
    for (String f : ruleFiles) {
      if (!Entry.sameContent(viewL.get(f), viewR.get(f))) {
        return true;
      }
    }
    return false;
  }

  /** Whether the workstation's side ignores {@code p}, a directory if any side has it as one. */
  private boolean ignoredHere(String p) {
    Entry e = viewL.get(p);
    if (e == null) {
      e = viewR.get(p);
    }
    if (e == null) {
      e = ancestor.get(p);
    }
    return local.ignores(p, e != null && e.isDirectory());
  }

  /**
   * The ancestor of a path both sides agree on: the local entry, with its time unknown when the
   * two times differ, so that neither is later taken for the other's {@code touch}.
   */
  private static Entry agreedEntry(Entry l, Entry r) {
    return l != null && !Entry.sameTimes(l, r) ? l.withMtime(Entry.UNKNOWN_MTIME) : l;
  }

  /** How long this cycle's {@link Endpoint#changes} took on each side (for the timing log). */
  private long localChangesNanos;
  private long remoteChangesNanos;

  /**
   * Both sides' change sets, asked side by side: the remote side's scan runs on the host while
   * this one runs here (a full scan at flush, or the host's look at the paths just written,
   * takes as long as the local one, and the two used to add up). The remote call runs on a
   * transfer thread (none of them is busy between cycles); if the local side fails, the remote
   * call is still waited for, so no call of this cycle outlives it.
   */
  private Endpoint.ChangeSet[] changesOfBoth(boolean full) throws IOException {
    List<String> hintsL = new ArrayList<>(rescanL);
    List<String> hintsR = new ArrayList<>(rescanR);
    Endpoint.Held keptL = heldL.held();
    Endpoint.Held keptR = heldR.held();
    long t0 = System.nanoTime();
    java.util.concurrent.Future<Endpoint.ChangeSet> fr;
    try {
      fr = transfers.submit(() -> {
        try {
          return remote.changes(seenR, full, hintsR, keptR);
        } finally {
          remoteChangesNanos = System.nanoTime() - t0;
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      throw new IOException("session closing", e);
    }
    Endpoint.ChangeSet cl;
    try {
      cl = local.changes(seenL, full, hintsL, keptL);
      localChangesNanos = System.nanoTime() - t0;
    } catch (IOException | RuntimeException e) {
      try {
        await(fr);
      } catch (IOException | RuntimeException ignored) {
        // the local side's failure is the one reported
      }
      throw e;
    }
    return new Endpoint.ChangeSet[] {cl, await(fr)};
  }

  /**
   * A side whose index was opened again since its last answer (another generation: its daemon
   * restarted) may have started from an older save of it, after a kill -9: the rows it had
   * answered for since that save are gone, and their sequence numbers are given again to other
   * rows. Its changes above the number this side saw would then leave out what the side's user
   * changed meanwhile (a file made after the restart took a number already seen; one deleted
   * while the daemon was down had no row to become a deletion), and the two trees stayed apart
   * for good. So its whole index is asked for, once (the answer is that already when this side
   * had seen none of its numbers, as when the host was killed right after the initial sync's
   * writes), and a path of {@code view} that it does not list is gone from that side. Session
   * thread.
   */
  private Endpoint.ChangeSet relistIfReopened(Endpoint side, Endpoint.ChangeSet cs, Receipts held, long seen,
      TreeMap<String, Entry> view) throws IOException {
    if (held.generation == 0 || cs.generation() == 0 || cs.generation() == held.generation) {
      return cs; // the first answer (the view is empty), the same index, or a side without generations
    }
    Endpoint.ChangeSet all = seen == 0 ? cs : side.changes(0, false, List.of(), Endpoint.Held.NONE);
    Map<String, Entry> changes = new HashMap<>(all.changes());
    for (String p : view.keySet()) {
      changes.putIfAbsent(p, null);
    }
    relists.incrementAndGet();
    log.info("{}: {} opened its index again (a restart): its whole index was asked for, {} entries", name,
        side.info().deviceName(), all.changes().size());
    return new Endpoint.ChangeSet(changes, all.lastSeq(), all.errors(), all.collisions(), all.rootMissing(),
        all.generation(), all.watchProblem());
  }

  /** How many times a side's whole index was asked for again after it reopened it ({@link #relistIfReopened}; tests). */
  final java.util.concurrent.atomic.AtomicLong relists = new java.util.concurrent.atomic.AtomicLong();

  private static boolean underFrozen(String p, Set<String> frozen) {
    if (frozen.isEmpty()) {
      return false;
    }
    for (String q = PathNames.parent(p); ; q = PathNames.parent(q)) {
      if (frozen.contains(q)) {
        return true;
      }
      if (q.isEmpty()) {
        return false;
      }
    }
  }

  /** Adds the subtrees of dirty directories, so tree-level fix-ups see every child. */
  private void widen(TreeSet<String> dirty) {
    List<String> dirs = new ArrayList<>();
    String covered = null; // the last directory taken: its subtree holds every directory under it
    for (String p : dirty) {
      if (covered != null && PathNames.isDescendant(p, covered)) {
        continue; // in sorted order a subtree follows its root: adding it again only costs lookups
      }
      if (isDir(ancestor.get(p)) || isDir(viewL.get(p)) || isDir(viewR.get(p))) {
        dirs.add(p);
        covered = p;
      }
    }
    for (String d : dirs) {
      for (NavigableMap<String, Entry> m : List.of(ancestor, viewL, viewR)) {
        dirty.addAll(m.subMap(d + "/", true, d + "/\uffff", true).keySet());
      }
    }
  }

  private static boolean isDir(Entry e) {
    return e != null && e.isDirectory();
  }

  /** Target entry on a side after a decision (null: absent, or unchanged if not decided). */
  private Entry after(String p, Action a, boolean onLocal) {
    if (a == null) {
      return onLocal ? viewL.get(p) : viewR.get(p);
    }
    switch (a) {
      case TO_REMOTE:
        return onLocal ? viewL.get(p) : viewL.get(p);
      case TO_LOCAL:
        return viewR.get(p);
      case CONFLICT_RENAME_REMOTE:
        return viewL.get(p);
      case CONFLICT_RENAME_LOCAL:
        return viewR.get(p);
      default:
        return onLocal ? viewL.get(p) : viewR.get(p);
    }
  }

  /**
   * A decision that would remove a directory on one side while something under it stays
   * there is turned around: the directory is kept and recreated on the other side (when it
   * was deleted there) or the other side's non-directory is moved aside as a conflict.
   */
  private void keepDirectoriesWithSurvivors(Map<String, Action> decisions) {
    List<String> paths = new ArrayList<>(decisions.keySet());
    paths.sort(Comparator.comparingInt(PathNames::depth).reversed());
    for (String p : paths) {
      Action a = decisions.get(p);
      for (boolean onLocal : new boolean[] {true, false}) {
        TreeMap<String, Entry> view = onLocal ? viewL : viewR;
        Entry now = view.get(p);
        if (!isDir(now)) {
          continue;
        }
        Entry target = after(p, a, onLocal);
        if (isDir(target)) {
          continue;
        }
        boolean survivor = false;
        for (String child : view.subMap(p + "/", true, p + "/\uffff", true).keySet()) {
          if (after(child, decisions.get(child), onLocal) != null) {
            survivor = true;
            break;
          }
        }
        if (!survivor) {
          continue;
        }
        if (target == null) {
          decisions.put(p, onLocal ? Action.TO_REMOTE : Action.TO_LOCAL);
        } else {
          decisions.put(p, onLocal ? Action.CONFLICT_RENAME_REMOTE : Action.CONFLICT_RENAME_LOCAL);
        }
        a = decisions.get(p);
      }
    }
  }

  /** Creations that would merge two names on a case-insensitive side are held back and reported. */
  private void holdBackCollisions(Map<String, Action> decisions, List<String> coll) {
    Set<String> keys = new HashSet<>();
    for (String p : decisions.keySet()) {
      keys.add(PathNames.collisionKey(p));
    }
    for (String key : keys) {
      Set<String> group = caseGroups.get(key);
      if (group == null || group.size() < 2) {
        continue;
      }
      for (boolean onLocal : new boolean[] {true, false}) {
        Endpoint.Info info = onLocal ? local.info() : remote.info();
        if (!info.caseInsensitive()) {
          continue;
        }
        List<String> present = new ArrayList<>();
        for (String q : group) {
          if (after(q, decisions.get(q), onLocal) != null) {
            present.add(q);
          }
        }
        if (present.size() < 2) {
          continue;
        }
        TreeMap<String, Entry> view = onLocal ? viewL : viewR;
        for (String q : present) {
          if (view.get(q) == null) {
            decisions.remove(q);
            carry.add(q); // re-evaluated (and reported) every cycle until one name goes away
          }
        }
        String what = info.deviceName() + ": names differ only in case: " + String.join(", ", present);
        coll.add(what);
        if (reportedCollisions.add(what)) {
          try {
            state.addConflict(new StateStore.ConflictRow(present.get(0), "", info.deviceName(), clock.millis(),
                "name collision (case-insensitive side): " + String.join(", ", present)));
            emit("conflict", present.get(0), what);
          } catch (IOException e) {
            errors.put("session", "cannot record conflict: " + e.getMessage());
          }
        }
      }
    }
  }

  /**
   * Counts true deletions only: a file whose content reappears under another name on the
   * same side (paired into a rename, as every file of {@code mv src src2} is) is moved, not
   * lost, so renaming most of the tree does not trip the stop.
   */
  /** @param del the plan's {@link #deletions} */
  private void checkSafety(int[] del) throws SafetyStop {
    long now = clock.millis();
    check(del[0], viewL.size(), recentSizes[0].recordAndPeak(now, viewL.size()), local.info().deviceName());
    check(del[1], viewR.size(), recentSizes[1].recordAndPeak(now, viewR.size()), remote.info().deviceName());
  }

  /**
   * How long the size a side had before earlier plans counts for the next one. A deletion that
   * reaches the engine in pieces more than {@link #DELETION_QUIET_MILLIS} apart (a slow disk, an
   * {@code rm} of a large tree that stalls) is not one burst: each piece was checked alone,
   * against a side already smaller by the pieces before it, so pieces of 30% of a tree crossed
   * until less than half was left. A plan is now also checked against the most entries the side
   * had in this window; a side that lost files and got them back (a {@code git checkout} of
   * another branch and back) has lost nothing against it.
   */
  static final long DELETION_WINDOW_MILLIS = 60_000;

  /** Per side (local, remote), the sizes it had before the plans of the last {@link #DELETION_WINDOW_MILLIS}. */
  private final RecentSizes[] recentSizes = {new RecentSizes(), new RecentSizes()};

  /**
   * The sizes one side had before recent plans, kept as a sliding-window maximum: oldest first,
   * each smaller than the one before it (a later, larger size makes the earlier ones moot).
   * Session thread.
   */
  private static final class RecentSizes {
    private record Size(long millis, long entries) {}

    private final java.util.ArrayDeque<Size> sizes = new java.util.ArrayDeque<>();

    /** Records {@code size} as of {@code now}; returns the most entries the side had in the window. */
    long recordAndPeak(long now, long size) {
      while (!sizes.isEmpty() && sizes.peekLast().entries() <= size) {
        sizes.removeLast();
      }
      sizes.addLast(new Size(now, size));
      while (sizes.peekFirst().millis() <= now - DELETION_WINDOW_MILLIS) {
        sizes.removeFirst();
      }
      return sizes.peekFirst().entries();
    }

    void clear() {
      sizes.clear();
    }
  }

  /**
   * Stops a plan that would delete {@code deletions} of a side's {@code size} entries at once, or
   * would leave it less than the safety share of the {@code peak} it had in the last minute. A
   * plan that trips the stop alone trips the second check too, and says "at once".
   */
  private void check(int deletions, int size, long peak, String device) throws SafetyStop {
    if (deletions > safetyMinimum && deletions >= safetyFraction * size) {
      throw new SafetyStop("would delete " + deletions + " of " + size + " entries on " + device
          + " at once; confirm with resume --force", true);
    }
    long fewer = peak - (size - deletions);
    if (deletions > 0 && fewer > safetyMinimum && fewer >= safetyFraction * peak) {
      throw new SafetyStop("would delete " + deletions + " of " + size + " entries on " + device + ": " + fewer
          + " fewer than the " + peak + " it had in the last " + DELETION_WINDOW_MILLIS / 1000
          + " s; confirm with resume --force", true);
    }
  }

  /** The deletions the plan would make on the local and the remote side (renames not counted). */
  private int[] deletions(Map<String, Action> decisions) {
    int delL = 0;
    int delR = 0;
    Set<String> moved = new HashSet<>(pairRenames(decisions).values());
    for (Map.Entry<String, Action> d : decisions.entrySet()) {
      String p = d.getKey();
      if (moved.contains(p)) {
        continue;
      }
      if (d.getValue() == Action.TO_REMOTE && viewL.get(p) == null && viewR.get(p) != null) {
        delR++;
      } else if (d.getValue() == Action.TO_LOCAL && viewR.get(p) == null && viewL.get(p) != null) {
        delL++;
      }
    }
    return new int[] {delL, delR};
  }

  /**
   * True if the plan should wait: a side would lose at least {@link #DELETION_BURST} entries,
   * more than any look at this burst saw before. A side's burst is over once a look finds fewer
   * than that (its deletions were carried out, or stopped): the next one starts from zero.
   */
  private boolean deletionBurstGrowing(int[] del) {
    boolean growing = false;
    for (int side = 0; side < 2; side++) {
      if (del[side] < DELETION_BURST) {
        burstSeen[side] = 0;
      } else if (del[side] > burstSeen[side]) {
        burstSeen[side] = del[side];
        growing = true;
      }
    }
    return growing;
  }

  // ------------------------------------------------------------------ execution

  /** One planned operation; {@code depth} is the path's, counted once for the plan's sort. */
  private record Step(int phase, String path, Action action, int depth) {
    Step(int phase, String path, Action action) {
      this(phase, path, action, PathNames.depth(path));
    }
  }

  /**
   * Runs the plan. Agreed states are persisted as it goes ({@link #AGREED_ROWS_PER_WRITE} at a
   * time) and at its end (also when the peer is lost half-way): a crash before that only loses
   * ancestor rows, and a path whose two sides are equal but lack an ancestor simply agrees again
   * on the next start, without a transfer.
   */
  private CycleResult execute(Map<String, Action> decisions) throws IOException {
    try {
      return executeSteps(decisions);
    } finally {
      writeAgreed();
    }
  }

  /**
   * Rows of {@link #agreedThisCycle} written while a plan's transfers still run, instead of all
   * at its end: an initial sync of 20,000 files wrote them in ~0.1 s after the last transfer,
   * with the host idle. Each transaction holds only rows whose operation is done on both sides,
   * so a crash between two leaves an ancestor that is merely behind (a path agreed on both sides
   * with no row is taken as agreed again).
   */
  static final int AGREED_ROWS_PER_WRITE = 1024;

  /** Writes the rows agreed so far this cycle (session thread). */
  private void writeAgreed() throws IOException {
    if (!agreedThisCycle.isEmpty()) {
      state.writeAncestor(agreedThisCycle);
      agreedThisCycle.clear(); // after the write: rows it failed to write go with the next one
    }
  }

  private CycleResult executeSteps(Map<String, Action> decisions) throws IOException {
    int[] tally = new int[2]; // applied, unsettled
    renameDirectoriesInCase(decisions, tally);
    List<Step> steps = new ArrayList<>();
    Map<String, String> renameFrom = pairRenames(decisions);
    Set<String> renameSources = new HashSet<>(renameFrom.values());
    for (Map.Entry<String, Action> d : decisions.entrySet()) {
      String p = d.getKey();
      Action a = d.getValue();
      if (renameSources.contains(p)) {
        continue; // carried out by the rename
      }
      Entry src = a == Action.TO_LOCAL ? viewR.get(p) : viewL.get(p);
      int phase;
      if (a == Action.CONFLICT_RENAME_LOCAL || a == Action.CONFLICT_RENAME_REMOTE) {
        phase = 0;
      } else if (renameFrom.containsKey(p)) {
        phase = 2;
      } else if (src == null) {
        phase = 3;
      } else if (src.isDirectory()) {
        phase = 1;
      } else {
        phase = 4;
      }
      steps.add(new Step(phase, p, a));
    }
    steps.sort(Comparator.comparingInt(Step::phase)
        .thenComparingInt(s -> s.phase() == 3 ? -s.depth() : s.depth())
        .thenComparing(Step::path));
    if (!steps.isEmpty()) {
      long bytes = 0;
      for (Step st : steps) {
        Entry src = st.action() == Action.TO_LOCAL ? viewR.get(st.path()) : viewL.get(st.path());
        Entry dst = st.action() == Action.TO_LOCAL ? viewL.get(st.path()) : viewR.get(st.path());
        if (src != null && src.isFile() && (dst == null || !dst.isFile() || !dst.hash().equals(src.hash()))) {
          bytes += src.size();
        }
      }
      planOps.set(steps.size());
      planOpsDone.set(0);
      planBytes.set(bytes);
      planBytesDone.set(0);
      planStartedMillis = clock.millis();
      planActive = true;
    }
    try {
      return runSteps(steps, renameFrom, tally);
    } finally {
      if (planActive) {
        planFinishedMillis = clock.millis();
        planActive = false;
      }
    }
  }

  private CycleResult runSteps(List<Step> steps, Map<String, String> renameFrom, int[] tally) throws IOException {
    int i = 0;
    while (i < steps.size()) {
      Step s = steps.get(i);
      if (transfers != null && (s.phase() == 1 || s.phase() == 3 || s.phase() == 4)) {
        // files and links have no order among themselves; directories to create (shallow
        // first) and entries to delete (deep first) have none within one depth
        int j = i;
        while (j < steps.size() && steps.get(j).phase() == s.phase()
            && (s.phase() == 4 || steps.get(j).depth() == s.depth())) {
          j++;
        }
        runConcurrently(steps.subList(i, j), tally);
        i = j;
        continue;
      }
      i++;
      String source = renameFrom.get(s.path());
      if (source != null) {
        // the rename stands for the source's deletion too: whatever happens, look at it again
        carry.add(source);
      }
      try {
        settle(s, run(s, source), tally);
      } catch (IOException e) {
        fail(s, e, tally);
      }
    }
    return new CycleResult(tally[0], tally[1]);
  }

  /**
   * A directory renamed only in case on one side ({@code Src} to {@code src}) reaches a
   * case-insensitive side as a directory rename. Planned the usual way it would be a
   * creation of {@code src} (refused: {@code Src} holds the name), renames of each file into
   * it (landing back in {@code Src}, since the lookup folds case) and then the deletion of
   * {@code Src}, which removes those files. So the directory is renamed first, and every
   * decision under either name is left to the next cycle, which finds both sides equal.
   * Counts each rename in {@code tally} as applied, or as unsettled when refused.
   */
  private void renameDirectoriesInCase(Map<String, Action> decisions, int[] tally) throws IOException {
    List<String> created = new ArrayList<>();
    for (Map.Entry<String, Action> d : decisions.entrySet()) {
      Action a = d.getValue();
      if (a == Action.TO_REMOTE || a == Action.TO_LOCAL) {
        created.add(d.getKey());
      }
    }
    created.sort(Comparator.comparingInt(PathNames::depth).thenComparing(Comparator.naturalOrder()));
    Set<String> handled = new HashSet<>();
    for (String p : created) {
      Action a = decisions.get(p);
      if (a == null || underFrozen(p, handled)) {
        continue;
      }
      boolean toRemote = a == Action.TO_REMOTE;
      Endpoint to = toRemote ? remote : local;
      TreeMap<String, Entry> src = toRemote ? viewL : viewR;
      TreeMap<String, Entry> dst = toRemote ? viewR : viewL;
      if (!(to.info().caseInsensitive() || to.info().normalizing()) || !isDir(src.get(p)) || dst.get(p) != null) {
        continue;
      }
      String old = null;
      for (String q : caseGroups.getOrDefault(PathNames.collisionKey(p), Set.of())) {
        if (!q.equals(p) && isDir(dst.get(q)) && src.get(q) == null && decisions.get(q) == a) {
          old = q;
          break;
        }
      }
      if (old == null) {
        continue;
      }
      ApplyResult r;
      try {
        r = to.apply(new Endpoint.Op(Endpoint.OpKind.RENAME, old, dst.get(old), null, p, null));
      } catch (IOException e) {
        if (isConnectionLoss(e) || isDiskFull(e)) {
          throw e;
        }
        r = ApplyResult.failed(e);
      }
      if (log.isDebugEnabled()) {
        log.debug("case-only directory rename {} -> {} on {}: {} {}", old, p, to.info().deviceName(), r.outcome(),
            r.message());
      }
      // whatever happened, nothing under either name is planned from this cycle's stale view
      for (String root : List.of(old, p)) {
        for (String q : new ArrayList<>(decisions.keySet())) {
          if (q.equals(root) || PathNames.isDescendant(q, root)) {
            decisions.remove(q);
            carry.add(q);
          }
        }
      }
      handled.add(old);
      handled.add(p);
      if (r.outcome() != ApplyResult.Outcome.OK) {
        rescanL.add(old);
        rescanR.add(old);
        rescanL.add(p);
        rescanR.add(p);
        if (r.outcome() == ApplyResult.Outcome.FAILED) {
          errors.put(p, r.message());
        } else {
          tally[1]++;
        }
        continue;
      }
      tally[0]++;
      opsApplied.incrementAndGet();
      renames.incrementAndGet();
      for (Map.Entry<String, Entry> e : new ArrayList<>(dst.subMap(old, true, old + "/\uffff", true).entrySet())) {
        if (e.getKey().equals(old) || PathNames.isDescendant(e.getKey(), old)) {
          String np = p + e.getKey().substring(old.length());
          dst.remove(e.getKey());
          dst.put(np, e.getValue());
          caseGroups.computeIfAbsent(PathNames.collisionKey(np), k -> new TreeSet<>()).add(np);
          carry.add(e.getKey());
          carry.add(np);
        }
      }
    }
  }

  /**
   * Steps without ordering constraints among themselves (files, links and exec bits; or
   * directory creations or deletions of one depth), so their I/O runs on the transfer threads: per-file round trips to the
   * host overlap instead of adding up. Small files go further: they travel whole, many per
   * call ({@link WholeFileBatch}), so an initial sync or a burst costs a round trip per few
   * hundred files rather than one per file. Results are settled here, in plan order.
   */
  private void runConcurrently(List<Step> batch, int[] tally) throws IOException {
    List<java.util.concurrent.Future<ApplyResult>> futures = new ArrayList<>();
    WholeFileBatch toRemote = new WholeFileBatch(local, remote);
    WholeFileBatch toLocal = new WholeFileBatch(remote, local);
    OpBatch opsToRemote = new OpBatch(remote);
    OpBatch opsToLocal = new OpBatch(local);
    for (Step t : batch) {
      String p = t.path();
      Entry l = viewL.get(p);
      Entry r = viewR.get(p);
      if (log.isDebugEnabled()) {
        log.debug("{} {} a={} l={} r={}", t.action(), p, ancestor.get(p), l, r);
      }
      boolean up = t.action() == Action.TO_REMOTE;
      Entry src = up ? l : r;
      Entry dst = up ? r : l;
      Endpoint.Op op = opFor(p, src, dst);
      if (op != null) {
        CompletableFuture<ApplyResult> f = new CompletableFuture<>();
        futures.add(f);
        (up ? opsToRemote : opsToLocal).add(op, f);
      } else if (sendsWhole(src, dst)) {
        CompletableFuture<ApplyResult> f = new CompletableFuture<>();
        futures.add(f);
        (up ? toRemote : toLocal).add(p, src, dst, f);
      } else {
        futures.add(transfers.submit(() -> up ? perform(local, remote, p, l, r) : perform(remote, local, p, r, l)));
      }
    }
    toRemote.submit();
    toLocal.submit();
    opsToRemote.submit();
    opsToLocal.submit();
    IOException lost = null;
    for (int k = 0; k < batch.size(); k++) {
      Step t = batch.get(k);
      try {
        ApplyResult r = await(futures.get(k));
        recordPropagation(t.action() == Action.TO_REMOTE ? viewR : viewL, t.path(),
            t.action() == Action.TO_REMOTE ? viewL.get(t.path()) : viewR.get(t.path()), r);
        settle(t, r, tally);
        if (agreedThisCycle.size() >= AGREED_ROWS_PER_WRITE) {
          writeAgreed(); // while the transfer threads go on with the rest of the batch
        }
      } catch (IOException e) {
        if (isConnectionLoss(e) || isDiskFull(e)) {
          lost = lost == null ? e : lost;
          carry.add(t.path());
        } else {
          fail(t, e, tally);
        }
      }
    }
    if (lost != null) {
      throw lost;
    }
  }

  /** Files at most this large travel whole, many per call. */
  static final int WHOLE_FILE_MAX = 256 * 1024;
  /** Bounds of one call (well under gRPC's default 4 MiB message limit). */
  static final int WHOLE_BATCH_FILES = 256;
  static final int WHOLE_BATCH_BYTES = 1 << 20;
  /**
   * Bounds of a batch pushed over the bulk plane ({@link Endpoint.Bulk#carriesBatches}): its
   * call holds only names and hashes, so it may be larger, and each batch's transfer waits for
   * its last file's verdict before its install call. A 20,000-file initial sync (tmpfs, same
   * pair of jars, alternating, runs 2-8) took 3.21-4.98 s (median 3.44) with 1,024 files / 8 MiB
   * against 3.80-6.28 s (median 4.74) with 256 / 1 MiB; 512 / 4 MiB (median 4.42) and 4,096 /
   * 32 MiB (5.08, against 4.13 in that run) did worse. What does not go over the plane is still
   * sent in calls of the bounds above.
   */
  static final int BULK_BATCH_FILES = 1024;
  static final int BULK_BATCH_BYTES = 8 << 20;
  /**
   * Batch calls in flight at once: one being read and sent while another is applied is all
   * the overlap there is to get, and a deeper queue of megabyte messages on the shared link
   * connection delays everything else on it (the link's liveness probes give up after 250 ms
   * on loopback and declare the path down).
   */
  static final int WHOLE_BATCHES_IN_FLIGHT = 3;
  private final java.util.concurrent.Semaphore batchSlots = new java.util.concurrent.Semaphore(WHOLE_BATCHES_IN_FLIGHT);

  /** True if {@link #perform} would send the whole file anyway (no exec-bit-only change, no block to reuse). */
  private boolean sendsWhole(Entry src, Entry dst) {
    if (src == null || !src.isFile() || src.size() > WHOLE_FILE_MAX) {
      return false;
    }
    if (dst != null && dst.isFile()) {
      return !dst.hash().equals(src.hash()) && (src.size() <= blockSize || dst.size() <= blockSize);
    }
    return true;
  }

  /**
   * Small whole-file transfers in one direction, gathered into calls of at most
   * {@link #WHOLE_BATCH_FILES} files or {@link #WHOLE_BATCH_BYTES} bytes, each run on a
   * transfer thread: read them all from the source in one call, write them all to the
   * destination in one call. A file that changed on the source since it was scanned fails
   * alone (ContentChangedException); a lost peer fails the whole call. Session thread only,
   * except the submitted calls.
   */
  private final class WholeFileBatch {
    private final Endpoint from;
    private final Endpoint to;
    private List<String> paths = new ArrayList<>();
    private List<Entry> srcs = new ArrayList<>();
    private List<Entry> dsts = new ArrayList<>();
    private List<CompletableFuture<ApplyResult>> results = new ArrayList<>();
    private long bytes;
    private final int maxFiles;
    private final long maxBytes;

    WholeFileBatch(Endpoint from, Endpoint to) {
      this.from = from;
      this.to = to;
      Endpoint.Bulk plane = from.bulkTo(to);
      boolean large = plane != null && plane.carriesBatches();
      this.maxFiles = large ? BULK_BATCH_FILES : WHOLE_BATCH_FILES;
      this.maxBytes = large ? BULK_BATCH_BYTES : WHOLE_BATCH_BYTES;
    }

    void add(String p, Entry src, Entry dst, CompletableFuture<ApplyResult> result) {
      if (!paths.isEmpty() && (paths.size() >= maxFiles || bytes + src.size() > maxBytes)) {
        submit();
      }
      paths.add(p);
      srcs.add(src);
      dsts.add(dst);
      results.add(result);
      bytes += src.size();
    }

    void submit() {
      if (paths.isEmpty()) {
        return;
      }
      List<String> ps = paths;
      List<Entry> ss = srcs;
      List<Entry> ds = dsts;
      List<CompletableFuture<ApplyResult>> rs = results;
      paths = new ArrayList<>();
      srcs = new ArrayList<>();
      dsts = new ArrayList<>();
      results = new ArrayList<>();
      bytes = 0;
      try {
        transfers.execute(() -> transfer(ps, ss, ds, rs));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        rs.forEach(f -> f.completeExceptionally(new IOException("session closing", e)));
      }
    }

    private void transfer(List<String> ps, List<Entry> ss, List<Entry> ds, List<CompletableFuture<ApplyResult>> rs) {
      try {
        batchSlots.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        rs.forEach(f -> f.completeExceptionally(new IOException("interrupted", e)));
        return;
      }
      try {
        long p0 = System.nanoTime();
        List<ApplyResult> pushed = overBulk(from, to, ps, ss, ds, true);
        List<Integer> rest = new ArrayList<>(ps.size());
        for (int i = 0; i < ps.size(); i++) {
          if (pushed != null && pushed.get(i) != null) {
            complete(rs.get(i), pushed.get(i), ss.get(i).size());
          } else {
            rest.add(i);
          }
        }
        long r0 = System.nanoTime();
        writeNanos.addAndGet(r0 - p0);
        // what did not go over the plane goes in calls of at most WHOLE_BATCH_FILES files and
        // WHOLE_BATCH_BYTES bytes (a batch gathered for the plane may be larger)
        int start = 0;
        while (start < rest.size()) {
          int end = start;
          long b = 0;
          while (end < rest.size() && (end == start
              || (end - start < WHOLE_BATCH_FILES && b + ss.get(rest.get(end)).size() <= WHOLE_BATCH_BYTES))) {
            b += ss.get(rest.get(end)).size();
            end++;
          }
          byMessage(ps, ss, ds, rs, rest.subList(start, end));
          start = end;
        }
      } catch (Throwable e) {
        rs.forEach(f -> f.completeExceptionally(e));
      } finally {
        batchSlots.release();
      }
    }

    /** Reads the files {@code rest} (indexes into the batch) from the source and writes them in one call each way. */
    private void byMessage(List<String> ps, List<Entry> ss, List<Entry> ds, List<CompletableFuture<ApplyResult>> rs,
        List<Integer> rest) throws IOException {
      long r0 = System.nanoTime();
      List<String> restPaths = new ArrayList<>(rest.size());
      List<String> hashes = new ArrayList<>(rest.size());
      for (int i : rest) {
        restPaths.add(ps.get(i));
        hashes.add(ss.get(i).hash());
      }
      List<byte[]> data = from.readFiles(restPaths, hashes);
      long r1 = System.nanoTime();
      readNanos.addAndGet(r1 - r0);
      List<Endpoint.WholeFile> send = new ArrayList<>(rest.size());
      List<Integer> sent = new ArrayList<>(rest.size());
      for (int k = 0; k < rest.size(); k++) {
        int i = rest.get(k);
        if (data.get(k) == null) {
          rs.get(i).completeExceptionally(new Endpoint.ContentChangedException(ps.get(i)
              + " changed since it was scanned"));
        } else {
          send.add(new Endpoint.WholeFile(ps.get(i), ds.get(i), ss.get(i), data.get(k)));
          sent.add(i);
        }
      }
      List<ApplyResult> out = send.isEmpty() ? List.of() : to.writeFiles(send, blockSize);
      writeNanos.addAndGet(System.nanoTime() - r1);
      for (int k = 0; k < sent.size(); k++) {
        complete(rs.get(sent.get(k)), out.get(k), send.get(k).data().length);
      }
    }

    private void complete(CompletableFuture<ApplyResult> f, ApplyResult r, long bytes) {
      f.complete(sentWhole(r, bytes));
    }
  }

  /** Counts a file whose every byte travelled, if {@code r} is OK; returns {@code r}. */
  private ApplyResult sentWhole(ApplyResult r, long bytes) {
    if (r.outcome() == ApplyResult.Outcome.OK) {
      planBytesDone.addAndGet(bytes);
      filesTransferred.incrementAndGet();
      bytesSent.addAndGet(bytes);
    }
    return r;
  }

  /**
   * Non-content operations in one direction (a plan's directories, deletions, links, exec
   * bits), gathered into {@link Endpoint#applyAll} calls of at most
   * {@link Endpoint#OPS_PER_CALL}, each run on a transfer thread: the 420 directories of a
   * 20,000-file initial sync cost a handful of round trips instead of one each. Session
   * thread only, except the submitted calls.
   */
  private final class OpBatch {
    private final Endpoint to;
    private List<Endpoint.Op> ops = new ArrayList<>();
    private List<CompletableFuture<ApplyResult>> results = new ArrayList<>();

    OpBatch(Endpoint to) {
      this.to = to;
    }

    void add(Endpoint.Op op, CompletableFuture<ApplyResult> result) {
      ops.add(op);
      results.add(result);
      if (ops.size() >= Endpoint.OPS_PER_CALL) {
        submit();
      }
    }

    void submit() {
      if (ops.isEmpty()) {
        return;
      }
      List<Endpoint.Op> os = ops;
      List<CompletableFuture<ApplyResult>> rs = results;
      ops = new ArrayList<>();
      results = new ArrayList<>();
      try {
        transfers.execute(() -> {
          try {
            long o0 = System.nanoTime();
            List<ApplyResult> out = to.applyAll(os);
            opNanos.addAndGet(System.nanoTime() - o0);
            for (int k = 0; k < rs.size(); k++) {
              rs.get(k).complete(out.get(k));
            }
          } catch (Throwable e) {
            rs.forEach(f -> f.completeExceptionally(e));
          }
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        rs.forEach(f -> f.completeExceptionally(new IOException("session closing", e)));
      }
    }
  }

  /** The future's value, its failure rethrown as it was (an IOException, a RuntimeException, an Error). */
  private static <T> T await(java.util.concurrent.Future<T> f) throws IOException {
    try {
      return f.get();
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof IOException) {
        throw (IOException) e.getCause();
      }
      if (e.getCause() instanceof RuntimeException) {
        throw (RuntimeException) e.getCause();
      }
      if (e.getCause() instanceof Error) {
        throw (Error) e.getCause();
      }
      throw new IOException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private void settle(Step s, ApplyResult r, int[] tally) {
    planOpsDone.incrementAndGet();
    if (log.isDebugEnabled()) {
      log.debug("  {} -> {} {}", s.path(), r.outcome(), r.message());
    }
    if (r.outcome() == ApplyResult.Outcome.OK) {
      tally[0]++;
      opsApplied.incrementAndGet();
      errors.remove(s.path());
      if (s.action() == Action.TO_REMOTE || s.action() == Action.TO_LOCAL) {
        boolean toRemote = s.action() == Action.TO_REMOTE;
        emit("applied", s.path(), (toRemote ? local : remote).info().deviceName() + " -> "
            + (toRemote ? remote : local).info().deviceName());
      }
    } else if (r.outcome() == ApplyResult.Outcome.CHANGED) {
      tally[1]++;
      rescanL.add(s.path());
      rescanR.add(s.path());
      carry.add(s.path());
    } else {
      errors.put(s.path(), r.message());
      emit("error", s.path(), r.message());
    }
  }

  private void fail(Step s, IOException e, int[] tally) throws IOException {
    if (e instanceof Endpoint.ContentChangedException) {
      carry.add(s.path());
      tally[1]++;
      rescanL.add(s.path());
      rescanR.add(s.path());
      return;
    }
    if (isConnectionLoss(e) || isDiskFull(e)) {
      carry.add(s.path());
      throw e;
    }
    errors.put(s.path(), ApplyResult.reason(e));
    emit("error", s.path(), errors.get(s.path()));
  }

  static boolean isConnectionLoss(IOException e) {
    return e instanceof Endpoint.PeerUnavailableException;
  }

  /** A side is out of space: stop the cycle (nothing was changed there) and let the session pause. */
  static boolean isDiskFull(IOException e) {
    return Endpoint.DiskFullException.isNoSpace(e);
  }

  /** Pairs a deletion and a creation of the same file content on one side into a rename. */
  private Map<String, String> pairRenames(Map<String, Action> decisions) {
    Map<String, String> out = new HashMap<>();
    for (boolean toRemote : new boolean[] {true, false}) {
      Action dir = toRemote ? Action.TO_REMOTE : Action.TO_LOCAL;
      TreeMap<String, Entry> src = toRemote ? viewL : viewR;
      TreeMap<String, Entry> dst = toRemote ? viewR : viewL;
      Map<String, List<String>> deletedByHash = new HashMap<>();
      for (Map.Entry<String, Action> d : decisions.entrySet()) {
        if (d.getValue() != dir) {
          continue; // before any lookup: an initial sync's 20,000 decisions go one way
        }
        String p = d.getKey();
        Entry gone = dst.get(p);
        if (gone != null && gone.isFile() && src.get(p) == null) {
          deletedByHash.computeIfAbsent(gone.hash() + gone.executable(), k -> new ArrayList<>()).add(p);
        }
      }
      if (deletedByHash.isEmpty()) {
        continue;
      }
      for (Map.Entry<String, Action> d : decisions.entrySet()) {
        String p = d.getKey();
        Entry made = src.get(p);
        if (d.getValue() == dir && made != null && made.isFile() && dst.get(p) == null) {
          List<String> candidates = deletedByHash.get(made.hash() + made.executable());
          if (candidates != null && !candidates.isEmpty()) {
            out.put(p, candidates.remove(candidates.size() - 1));
          }
        }
      }
    }
    return out;
  }

  private ApplyResult run(Step s, String renameSource) throws IOException {
    String p = s.path();
    if (log.isDebugEnabled()) {
      log.debug("{} {} a={} l={} r={}{}", s.action(), p, ancestor.get(p), viewL.get(p), viewR.get(p),
          renameSource == null ? "" : " from " + renameSource);
    }
    Entry l = viewL.get(p);
    Entry r = viewR.get(p);
    switch (s.action()) {
      case CONFLICT_RENAME_REMOTE:
        return moveAside(remote, viewR, p, r);
      case CONFLICT_RENAME_LOCAL:
        return moveAside(local, viewL, p, l);
      case TO_REMOTE:
        return propagate(local, remote, viewR, p, l, r, renameSource);
      case TO_LOCAL:
        return propagate(remote, local, viewL, p, r, l, renameSource);
      default:
        throw new IllegalStateException("action: " + s.action());
    }
  }

  private ApplyResult moveAside(Endpoint side, TreeMap<String, Entry> view, String p, Entry e) throws IOException {
    LocalDateTime now = LocalDateTime.now(clock);
    String copy = PathNames.conflictName(p, side.info().deviceName(), now, 1);
    // two conflicts on one file within a second get one stamp: number the later copies, so
    // that none is refused (or, in a race, renamed over) because an earlier copy has the name
    for (int n = 2; nameTaken(copy); n++) {
      copy = PathNames.conflictName(p, side.info().deviceName(), now, n);
    }
    ApplyResult r = side.apply(new Endpoint.Op(Endpoint.OpKind.RENAME, p, e, null, copy, null));
    if (r.outcome() == ApplyResult.Outcome.OK) {
      view.remove(p);
      hold(view, copy, r);
      carry.add(p);
      carry.add(copy);
      caseGroups.computeIfAbsent(PathNames.collisionKey(copy), k -> new TreeSet<>()).add(copy);
      String why = "both sides changed " + p + "; the " + side.info().deviceName() + " version was kept as " + copy;
      state.addConflict(new StateStore.ConflictRow(p, copy, side.info().deviceName(), clock.millis(), why));
      emit("conflict", p, why);
    }
    return r;
  }

  /** True if a side or the ancestor holds {@code path}, or a name equal to it but for case or normalisation. */
  private boolean nameTaken(String path) {
    if (known(path)) {
      return true;
    }
    for (String q : caseGroups.getOrDefault(PathNames.collisionKey(path), Set.of())) {
      if (known(q)) {
        return true;
      }
    }
    return false;
  }

  private boolean known(String path) {
    return viewL.containsKey(path) || viewR.containsKey(path) || ancestor.containsKey(path);
  }

  private ApplyResult propagate(Endpoint from, Endpoint to, TreeMap<String, Entry> toView, String p, Entry src,
      Entry dst, String renameSource) throws IOException {
    ApplyResult r;
    if (renameSource != null) {
      Entry old = toView.get(renameSource);
      r = to.apply(new Endpoint.Op(Endpoint.OpKind.RENAME, renameSource, old, null, p, dst));
      if (r.outcome() == ApplyResult.Outcome.OK) {
        renames.incrementAndGet();
        propagated();
        toView.remove(renameSource);
        hold(toView, p, r);
        agreedThisCycle.put(renameSource, null);
        agreedThisCycle.put(p, src);
        ancestor.remove(renameSource);
        ancestor.put(p, src);
      }
      return r;
    }
    r = perform(from, to, p, src, dst);
    recordPropagation(toView, p, src, r);
    return r;
  }

  /** The I/O half of a propagation; touches no coordinator state, so it may run on a transfer thread. */
  private ApplyResult perform(Endpoint from, Endpoint to, String p, Entry src, Entry dst) throws IOException {
    Endpoint.Op op = opFor(p, src, dst);
    return op != null ? to.apply(op) : transferFile(from, to, p, src, dst);
  }

  /** The non-content operation that turns {@code dst} into {@code src}, or null if content has to travel. */
  private static Endpoint.Op opFor(String p, Entry src, Entry dst) {
    if (src == null) {
      return new Endpoint.Op(Endpoint.OpKind.DELETE, p, dst, null, null, null);
    } else if (src.isDirectory()) {
      return new Endpoint.Op(Endpoint.OpKind.MKDIR, p, dst, src, null, null);
    } else if (src.kind() == Kind.SYMLINK) {
      return new Endpoint.Op(Endpoint.OpKind.SYMLINK, p, dst, src, null, null);
    } else if (dst != null && dst.isFile() && dst.hash().equals(src.hash())) {
      return new Endpoint.Op(Endpoint.OpKind.SET_ATTRIBUTES, p, dst, src, null, null);
    }
    return null;
  }

  /** The bookkeeping half; session thread only. */
  private void recordPropagation(TreeMap<String, Entry> toView, String p, Entry src, ApplyResult r) {
    if (r.outcome() == ApplyResult.Outcome.OK) {
      propagated();
      hold(toView, p, r);
      agreedThisCycle.put(p, src);
      putOrRemove(ancestor, p, src);
    }
  }

  /**
   * Records an applied operation's result in the view of the side it ran on, and that the
   * coordinator now holds the row the side recorded for it (its next answer may leave it out).
   */
  private void hold(TreeMap<String, Entry> view, String p, ApplyResult r) {
    putOrRemove(view, p, r.result());
    (view == viewR ? heldR : heldL).add(r.seq());
  }

  /**
   * The rows of one side whose apply results the coordinator recorded in its view since that
   * side last answered for them, and the generation of the side's index they belong to.
   * Rows are held from the answer of one generation to the next answer: an answer of the same
   * generation covers those up to its last sequence number (a call skipped for lack of news
   * covers none), an answer of another generation (the side reopened its index) voids them
   * all. Session thread only.
   */
  private static final class Receipts {
    private long generation;
    private final TreeSet<Long> seqs = new TreeSet<>();

    void add(long seq) {
      if (seq != 0 && generation != 0) {
        seqs.add(seq);
      }
    }

    Endpoint.Held held() {
      return seqs.isEmpty() ? Endpoint.Held.NONE : Endpoint.Held.of(generation, seqs);
    }

    void answered(Endpoint.ChangeSet cs) {
      if (cs.generation() != generation) {
        seqs.clear();
        generation = cs.generation();
      } else {
        seqs.headSet(cs.lastSeq(), true).clear();
      }
    }
  }

  private static void putOrRemove(Map<String, Entry> m, String p, Entry e) {
    if (e == null) {
      m.remove(p);
    } else {
      m.put(p, e);
    }
  }

  private static final int CHUNK = 1 << 20;

  /**
   * Files moved over the bulk plane and installed, pushed to the host or pulled from it, one
   * result per file (null: not sent that way), or null when that plane does not apply (see
   * {@link Endpoint#bulkTo} and {@link Endpoint.Bulk#files}).
   */
  private List<ApplyResult> overBulk(Endpoint from, Endpoint to, List<String> ps, List<Entry> srcs, List<Entry> dsts,
      boolean batch) throws IOException {
    Endpoint.Bulk plane = from.bulkTo(to);
    return plane == null ? null : plane.files(ps, srcs, dsts, batch, blockSize);
  }

  /**
   * Paths whose last delta came back CHANGED: their next transfer sends every byte. A delta
   * trusts block fingerprints to pick reusable blocks; should two different blocks ever share
   * one, the whole-file check refuses the result, and without this the retry would repeat it.
   */
  private final Set<String> sendWhole = ConcurrentHashMap.newKeySet();

  /**
   * Sends a file, only the blocks that differ from what the destination already has at the
   * same offsets (fixed-offset block matching: an in-place edit costs one block; an insertion
   * resends from the insertion point on). Both sides answer the fingerprint requests from
   * what they kept when they last hashed the file, so neither reads it for this; runs of
   * reused blocks travel as one basis-copy instruction. The changed blocks go over the bulk
   * plane where there is one (staged beside the destination in one transfer, then copied in),
   * else by {@link Endpoint#read} into the upload.
   */
  private ApplyResult transferFile(Endpoint from, Endpoint to, String p, Entry src, Entry dst) throws IOException {
    List<String> dstBlocks = List.of();
    List<String> srcBlocks = List.of();
    boolean whole = sendWhole.remove(p);
    if (!whole && dst != null && dst.isFile() && src.size() > blockSize && dst.size() > blockSize) {
      dstBlocks = to.blocks(p, blockSize).blockHashes();
      if (!dstBlocks.isEmpty()) {
        srcBlocks = from.blocks(p, blockSize).blockHashes();
      }
    }
    if (dstBlocks.isEmpty()) {
      // every byte travels: over the bulk plane where there is one (zero-copy, pipelined)
      List<ApplyResult> pushed = overBulk(from, to, List.of(p), List.of(src), java.util.Collections.singletonList(dst), false);
      if (pushed != null && pushed.get(0) != null) {
        return sentWhole(pushed.get(0), src.size());
      }
    }
    // the plan: runs of reused blocks (basis copies) and the changed byte ranges between them
    List<Piece> pieces = new ArrayList<>();
    List<long[]> changed = new ArrayList<>(); // {offset, length} of each changed piece
    long sent = 0;
    long blocks = (src.size() + blockSize - 1) / blockSize;
    for (long i = 0; i < blocks; i++) {
      long off = i * blockSize;
      long len = Math.min(blockSize, src.size() - off);
      boolean same = i < dstBlocks.size() && i < srcBlocks.size() && dstBlocks.get((int) i).equals(srcBlocks.get((int) i));
      Piece last = pieces.isEmpty() ? null : pieces.get(pieces.size() - 1);
      if (same && last != null && last.reuse) {
        last.length++;
      } else if (same) {
        pieces.add(new Piece(true, i, 1));
      } else if (last != null && !last.reuse && last.start + last.length == off && last.length + len <= CHUNK) {
        last.length += len;
        sent += len;
      } else {
        pieces.add(new Piece(false, off, len));
        sent += len;
      }
    }
    for (Piece piece : pieces) {
      if (!piece.reuse) {
        changed.add(new long[] {piece.start, piece.length});
      }
    }
    long reused = src.size() - sent;
    // the changed ranges of a delta go over the bulk plane where there is one, staged beside the
    // destination (a file with nothing to reuse went whole above if it could)
    Endpoint.Bulk plane = changed.isEmpty() || reused == 0 ? null : from.bulkTo(to);
    String staged = plane == null ? null : plane.stageRanges(p, src, changed);
    try (Endpoint.FileUpload up = to.beginWrite(p, dst, src, blockSize)) {
      List<long[]> ranges = new ArrayList<>();
      long stagedAt = 0;
      for (Piece piece : pieces) {
        if (piece.reuse) {
          flush(from, p, src, ranges, up);
          up.copyBasis(piece.start, piece.length);
        } else if (staged != null) {
          up.copyStaged(staged, stagedAt, piece.start, piece.length);
          stagedAt += piece.length;
        } else {
          ranges.add(new long[] {piece.start, piece.length});
          if (ranges.size() >= 8) {
            flush(from, p, src, ranges, up);
          }
        }
      }
      flush(from, p, src, ranges, up);
      ApplyResult r = up.commit();
      if (r.outcome() == ApplyResult.Outcome.OK) {
        planBytesDone.addAndGet(src.size());
        filesTransferred.incrementAndGet();
        bytesSent.addAndGet(sent);
        bytesReused.addAndGet(reused);
      } else if (r.outcome() == ApplyResult.Outcome.CHANGED && reused > 0) {
        sendWhole.add(p);
      }
      return r;
    }
  }

  /**
   * A run of a delta's plan: {@code reuse}, blocks {@code start} to {@code start + length - 1}
   * of the destination's current file; else {@code length} changed bytes from offset
   * {@code start}, to send.
   */
  private static final class Piece {
    final boolean reuse;
    final long start;
    long length;

    Piece(boolean reuse, long start, long length) {
      this.reuse = reuse;
      this.start = start;
      this.length = length;
    }
  }

  /** Reads the ranges from the source into the upload, and clears them. */
  private static void flush(Endpoint from, String p, Entry src, List<long[]> ranges, Endpoint.FileUpload up)
      throws IOException {
    if (ranges.isEmpty()) {
      return;
    }
    from.read(p, src.hash(), new ArrayList<>(ranges), up::write);
    ranges.clear();
  }

  /** Test hook: the coordinator's current idea of the ancestor. */
  Map<String, Entry> ancestorView() {
    return new TreeMap<>(ancestor);
  }

  String name() {
    return name;
  }
}
