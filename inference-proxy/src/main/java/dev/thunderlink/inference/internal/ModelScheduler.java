package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.inference.SchedulerConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides which request goes to the upstream next, and which model is loaded, for everybody
 * on the host: the workstation's tools and the host's own agents.
 *
 * <p>Threading: all state is guarded by one lock and changed by tasks that {@link #submit},
 * {@link Job#cancel}, {@link Job#release} and {@link #snapshot} hand to the scheduler thread
 * (callable from any thread). One exception, for the first token's sake: a request that would
 * be dispatched at once anyway (nothing queued, no swap under way, its model loaded with a
 * free slot) is dispatched on the thread calling {@link #submit} if the lock is free right
 * then, instead of waiting for the scheduler thread to wake (~0.2 ms on a busy machine).
 * {@link Work#start} therefore runs on the scheduler thread or the submitting one, with the
 * lock held, and must not block (it starts an asynchronous upstream call). The submitting
 * thread only ever tries the lock, so it never waits for the scheduler thread.
 */
/*
 * Design. Ollama's own scheduler takes requests in arrival order and loads whatever the head
 * of the queue needs, so two clients alternating between two models that do not fit together
 * make it load a model for nearly every request; a differing num_ctx reloads too. Here:
 *
 *  - One queue per model. Requests for a loaded ("resident") model are dispatched first, up
 *    to the upstream's parallel slots per model, so the upstream's own queue stays empty.
 *    Within the loaded models, interactive requests go before batch ones; a batch request that
 *    has waited agingAfter ranks as interactive; then arrival order.
 *  - A model that is not loaded is brought in when the budget (maxLoadedModels, memory bytes)
 *    allows it without eviction, or when a swap is warranted: its best waiter is interactive
 *    and the loaded models have only batch work; or its oldest waiter has waited maxGroupWait;
 *    or the loaded models have had no work for linger. So A B A B runs as A A B B.
 *  - A swap first stops dispatching to the victims, lets their requests in flight finish,
 *    unloads them explicitly (keep_alive 0) and only then lets the new model's requests go,
 *    so the upstream never has to evict on its own. If every waiter of the new model leaves
 *    meanwhile, the swap is abandoned: a waiter that has gone never causes a load.
 *  - Load-time options are pinned per model (configured, else those of the first request after
 *    the load) and written into every request, so clients never force a reload.
 */
public final class ModelScheduler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelScheduler.class);

  /** {@link #LOG}, or nothing for the start-up warm-up's private scheduler ({@link #silence}). */
  private volatile Logger log = LOG;
  private static final int WAIT_SAMPLES = 4096;

  /** Who is asking: interactive work goes before batch work. */
  public enum RequestClass { INTERACTIVE, BATCH }

  /** The request's side: what to do when it may go upstream. */
  public interface Work {
    /**
     * The request may go upstream now with {@code body} (options pinned). Runs with the
     * scheduler's lock held, on the scheduler thread or the one calling submit; must not
     * block. Call {@link Job#release} when the upstream call ends and {@link Job#onCancel} to
     * learn when the client leaves.
     */
    void start(ObjectNode body, Job job);

    /** The request will not run (queue full, scheduler closed); one human line. */
    void rejected(String reason);
  }

  enum Residency { ABSENT, RESIDENT, UNLOADING }

  /** Per-model state; guarded by the scheduler's lock. */
  private final class Model {
    final String name;
    Upstream upstream;
    long sizeBytes;
    final List<Job> queue = new ArrayList<>();
    Residency residency = Residency.ABSENT;
    int inFlight;
    boolean draining;
    long lastActiveNanos;
    long loadedAtMillis;
    long loadedAtNanos;
    Map<String, JsonNode> pinned;

    Model(String name) {
      this.name = name;
    }

    boolean hasWork() {
      return !queue.isEmpty();
    }
  }

  /** One request in the scheduler: a ticket for the client, a lease while it runs. */
  public final class Job {
    final String model;
    final RequestClass requestClass;
    final ObjectNode body;
    final Work work;
    final long seq;
    final long enqueuedNanos;
    long dispatchedNanos;
    // written under the scheduler's lock, read by release/cancel
    private volatile int state; // 0 queued, 1 running, 2 done
    private volatile Runnable canceller;
    private volatile boolean cancelRequested;

    Job(String model, RequestClass rc, ObjectNode body, Work work, long seq, long now) {
      this.model = model;
      this.requestClass = rc;
      this.body = body;
      this.work = work;
      this.seq = seq;
      this.enqueuedNanos = now;
    }

    /** How long the request waited in the queue, in nanoseconds (0 until dispatched). */
    public long queuedNanos() {
      return dispatchedNanos == 0 ? 0 : dispatchedNanos - enqueuedNanos;
    }

    /** Registers what aborts the running upstream call; runs at once if already cancelled. */
    public void onCancel(Runnable r) {
      canceller = r;
    }

    /** The client left: drop the request from the queue, or abort its upstream call. Any thread. */
    public void cancel() {
      cancelRequested = true;
      Runnable c = canceller;
      if (state == 1 && c != null) {
        c.run(); // straight away, not behind the scheduler's queue: the 100 ms promise
      }
      execute(() -> cancelled(this));
    }

    /** The upstream call ended (normally or not): frees the slot. Idempotent; any thread. */
    public void release() {
      execute(() -> released(this));
    }

    boolean effectivelyInteractive(long now) {
      return requestClass == RequestClass.INTERACTIVE || now - enqueuedNanos >= agingNanos;
    }
  }

  private final SchedulerConfig config;
  private final LongSupplier ticker;
  private final ScheduledExecutorService exec;
  /** Guards every field below and the models' state; held by each task and the fast path. */
  private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
  private final Map<String, Model> models = new LinkedHashMap<>();
  private final long agingNanos;
  private long seq;
  private int queued;
  private Model swapTarget;
  private final List<Model> swapVictims = new ArrayList<>();
  private ScheduledFuture<?> timer;
  private long timerAt = Long.MAX_VALUE;
  private boolean closed;

  // statistics, written under the lock
  private final AtomicLong loads = new AtomicLong();
  private final AtomicLong unloads = new AtomicLong();
  private final AtomicLong swaps = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong cancelledCount = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final Map<RequestClass, WaitRing> waits = new EnumMap<>(RequestClass.class);
  private volatile dev.thunderlink.inference.InferenceObserver observer = dev.thunderlink.inference.InferenceObserver.NONE;

  public ModelScheduler(SchedulerConfig config) {
    this(config, System::nanoTime);
  }

  /**
   * Logs nothing from now on: the start-up warm-up's private scheduler, whose model loads and
   * failures are its own business (it reports in one line of its own).
   */
  public void silence() {
    log = org.slf4j.helpers.NOPLogger.NOP_LOGGER;
  }

  ModelScheduler(SchedulerConfig config, LongSupplier ticker) {
    this.config = Objects.requireNonNull(config);
    this.ticker = ticker;
    this.agingNanos = config.agingAfter().toNanos();
    this.exec = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "thunderlink-model-scheduler");
      t.setDaemon(true);
      return t;
    });
    for (RequestClass c : RequestClass.values()) {
      waits.put(c, new WaitRing());
    }
  }

  public SchedulerConfig config() {
    return config;
  }

  /** Who hears of each dispatch (queue wait) and first token (metrics). Any thread. */
  public void observer(dev.thunderlink.inference.InferenceObserver o) {
    observer = Objects.requireNonNull(o);
  }

  public dev.thunderlink.inference.InferenceObserver observer() {
    return observer;
  }

  static String label(RequestClass c) {
    return c.name().toLowerCase(java.util.Locale.ROOT);
  }

  private void execute(Runnable r) {
    execute(r, null);
  }

  /** Runs {@code r} under the lock on the scheduler thread, then {@code afterUnlock} (if any) outside it. */
  private boolean execute(Runnable r, Runnable afterUnlock) {
    try {
      exec.execute(() -> {
        locked(r);
        if (afterUnlock != null) {
          afterUnlock.run();
        }
      });
      return true;
    } catch (RejectedExecutionException closedAlready) {
      log.debug("scheduler closed; task dropped");
      return false;
    }
  }

  /** Runs a task under the lock; scheduler thread. */
  private void locked(Runnable r) {
    lock.lock();
    try {
      r.run();
    } catch (RuntimeException e) {
      log.error("scheduler task failed", e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queues a request for {@code model} (a full {@code name:tag}) served by {@code upstream};
   * {@code sizeBytes} is the model's size as the upstream reports it. Any thread; may call
   * {@link Work#start} before it returns (see the class comment).
   */
  public Job submit(String model, Upstream upstream, long sizeBytes, RequestClass requestClass,
      ObjectNode body, Work work) {
    Job job = new Job(model, requestClass, body, work, 0, ticker.getAsLong());
    if (!dispatchHere(job, upstream, sizeBytes)) {
      execute(() -> enqueue(job, upstream, sizeBytes));
    }
    return job;
  }

  /**
   * The idle fast path: dispatches {@code job} on the calling thread when the scheduler would
   * do nothing else with it, i.e. nothing waits (so nobody is overtaken), no swap is under way
   * and its model is loaded, not draining and has a free slot. Returns false, having changed
   * nothing, otherwise or when the lock is busy.
   */
  private boolean dispatchHere(Job job, Upstream upstream, long sizeBytes) {
    if (!lock.tryLock()) {
      return false;
    }
    try {
      Model m = models.get(job.model);
      if (closed || queued > 0 || swapTarget != null || m == null || m.upstream != upstream
          || m.residency != Residency.RESIDENT || m.draining || m.inFlight >= upstream.parallel()
          || (sizeBytes > 0 && sizeBytes != m.sizeBytes)) {
        return false;
      }
      dispatch(m, job, ticker.getAsLong());
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Tells the scheduler a model is loaded already (found in the upstream's /api/ps at start). */
  public void adoptLoaded(String model, Upstream upstream, long sizeBytes) {
    execute(() -> {
      Model m = model(model, upstream, sizeBytes);
      if (m.residency == Residency.ABSENT && fits(m)) {
        m.residency = Residency.RESIDENT;
        m.loadedAtMillis = System.currentTimeMillis();
        m.lastActiveNanos = ticker.getAsLong();
        m.loadedAtNanos = m.lastActiveNanos;
        log.info("scheduler: {} was loaded already; adopted", model);
      } else if (m.residency == Residency.ABSENT) {
        log.info("scheduler: {} is loaded but outside the budget; unloading it", model);
        m.residency = Residency.UNLOADING;
        startUnload(m);
      }
    });
  }

  private Model model(String name, Upstream upstream, long sizeBytes) {
    Model m = models.computeIfAbsent(name, Model::new);
    m.upstream = upstream;
    if (sizeBytes > 0) {
      m.sizeBytes = sizeBytes;
    }
    return m;
  }

  private void enqueue(Job job, Upstream upstream, long sizeBytes) {
    if (closed) {
      job.state = 2;
      job.work.rejected("the scheduler is shutting down");
      return;
    }
    if (queued >= config.maxQueued()) {
      job.state = 2;
      rejected.incrementAndGet();
      job.work.rejected("too many requests waiting (" + queued + "); try again later");
      return;
    }
    Model m = model(job.model, upstream, sizeBytes);
    if (config.memoryBudgetBytes() > 0 && m.sizeBytes > config.memoryBudgetBytes()) {
      job.state = 2;
      rejected.incrementAndGet();
      job.work.rejected(String.format(java.util.Locale.ROOT,
          "model %s needs %.1f GB, more than the memory budget of %.1f GB", m.name,
          m.sizeBytes / 1e9, config.memoryBudgetBytes() / 1e9));
      return;
    }
    m.queue.add(job);
    queued++;
    pump();
  }

  private void cancelled(Job job) {
    if (job.state == 0) {
      Model m = models.get(job.model);
      if (m != null && m.queue.remove(job)) {
        queued--;
        job.state = 2;
        cancelledCount.incrementAndGet();
        log.debug("scheduler: request for {} cancelled while waiting", job.model);
        pump();
      }
    } else if (job.state == 1) {
      Runnable c = job.canceller;
      if (c != null) {
        c.run(); // in case onCancel was registered after cancel() looked
      }
      // counted by released(): the aborted call's end can be queued before this task, and it
      // counted the request as completed while this one saw it over and counted nothing
    }
  }

  private void released(Job job) {
    if (job.state != 1) {
      return;
    }
    job.state = 2;
    Model m = models.get(job.model);
    m.inFlight--;
    m.lastActiveNanos = ticker.getAsLong();
    (job.cancelRequested ? cancelledCount : completed).incrementAndGet();
    pump();
  }

  // ------------------------------------------------------------------ decisions

  private void pump() {
    if (closed) {
      return;
    }
    long now = ticker.getAsLong();
    // Waiters that have gone must not count as work (and so never cause a load).
    for (Model m : models.values()) {
      for (Iterator<Job> it = m.queue.iterator(); it.hasNext(); ) {
        Job j = it.next();
        if (j.cancelRequested) {
          it.remove();
          queued--;
          j.state = 2;
          cancelledCount.incrementAndGet();
        }
      }
    }
    unloadIdle(now);
    boolean progress = true;
    while (progress) {
      progress = advanceSwap(now);
      progress |= dispatchResident(now);
    }
    armTimer(now);
  }

  /** Loads what can be loaded without eviction, or starts/continues a swap. */
  private boolean advanceSwap(long now) {
    if (swapTarget != null) {
      return continueSwap(now);
    }
    Model want = null;
    for (Model m : models.values()) {
      if (m.residency == Residency.ABSENT && m.hasWork()
          && (want == null || rank(m, now) < rank(want, now))) {
        want = m;
      }
    }
    if (want == null) {
      return false;
    }
    if (fits(want)) {
      makeResident(want, false);
      return true;
    }
    if (!swapWarranted(want, now)) {
      return false;
    }
    // Choose victims: idle ones first, those without work first, least recently used first.
    List<Model> candidates = new ArrayList<>();
    for (Model m : models.values()) {
      if (m.residency == Residency.RESIDENT) {
        candidates.add(m);
      }
    }
    candidates.sort(Comparator.<Model>comparingInt(m -> m.hasWork() ? 1 : 0)
        .thenComparingInt(m -> m.inFlight > 0 ? 1 : 0)
        .thenComparingLong(m -> m.lastActiveNanos));
    long bytes = residentBytes();
    int count = residentCount();
    for (Model v : candidates) {
      if (count + 1 <= config.maxLoadedModels()
          && (config.memoryBudgetBytes() == 0 || bytes + want.sizeBytes <= config.memoryBudgetBytes())) {
        break;
      }
      swapVictims.add(v);
      v.draining = true;
      bytes -= v.sizeBytes;
      count--;
    }
    swapTarget = want;
    log.info("scheduler: swapping {} in for {} ({} waiting, oldest {} ms)", want.name,
        swapVictims.stream().map(v -> v.name).toList(), want.queue.size(),
        (now - oldest(want)) / 1_000_000);
    return continueSwap(now);
  }

  private boolean continueSwap(long now) {
    Model want = swapTarget;
    if (!want.hasWork()) {
      // Every waiter left: abandon the swap; the victims stay loaded.
      log.info("scheduler: swap to {} abandoned, nobody waits for it any more", want.name);
      for (Model v : swapVictims) {
        v.draining = false;
      }
      swapVictims.clear();
      swapTarget = null;
      return true;
    }
    boolean progress = false;
    for (Model v : swapVictims) {
      if (v.residency == Residency.RESIDENT && v.inFlight == 0) {
        v.residency = Residency.UNLOADING;
        startUnload(v);
        progress = true;
      }
    }
    if (fits(want)) {
      swapVictims.clear();
      swapTarget = null;
      makeResident(want, true);
      return true;
    }
    return progress;
  }

  private boolean swapWarranted(Model want, long now) {
    boolean residentWork = false;
    boolean residentInteractive = false;
    long lastActive = Long.MIN_VALUE;
    long lastLoaded = Long.MIN_VALUE;
    boolean anyInFlight = false;
    for (Model m : models.values()) {
      if (m.residency != Residency.RESIDENT) {
        continue;
      }
      anyInFlight |= m.inFlight > 0;
      lastActive = Math.max(lastActive, m.lastActiveNanos);
      lastLoaded = Math.max(lastLoaded, m.loadedAtNanos);
      for (Job j : m.queue) {
        residentWork = true;
        residentInteractive |= j.requestClass == RequestClass.INTERACTIVE;
      }
    }
    long group = config.maxGroupWait().toNanos();
    if (now - oldest(want) >= group && now - lastLoaded >= group) {
      // No starvation: the loaded models had their turn (maxGroupWait since their load), and
      // this one has waited as long. Aged batch work does not preempt sooner, or an
      // overloaded host would swap after every request.
      return true;
    }
    if (hasInteractive(want) && !residentInteractive) {
      return true; // interactive before batch
    }
    // The loaded models have no more work: keep them for linger, then give way.
    return !residentWork && !anyInFlight && now - lastActive >= config.linger().toNanos();
  }

  private void makeResident(Model m, boolean swap) {
    m.residency = Residency.RESIDENT;
    m.draining = false;
    m.loadedAtMillis = System.currentTimeMillis();
    m.lastActiveNanos = ticker.getAsLong();
    m.loadedAtNanos = m.lastActiveNanos;
    m.pinned = null;
    loads.incrementAndGet();
    if (swap) {
      swaps.incrementAndGet();
    }
    log.info("scheduler: loading {} ({} bytes){}", m.name, m.sizeBytes, swap ? " after a swap" : "");
  }

  private void startUnload(Model v) {
    unloads.incrementAndGet();
    log.info("scheduler: unloading {} (keep_alive 0)", v.name);
    v.upstream.unload(v.name).whenComplete((ok, err) -> execute(() -> {
      if (err != null) {
        log.warn("scheduler: unloading {} failed: {}; counting it as unloaded",
            v.name, UpstreamException.of(v.upstream.name(), err).getMessage());
      }
      v.residency = Residency.ABSENT;
      v.draining = false;
      v.pinned = null;
      pump();
    }));
  }

  /** Unloads loaded models nobody has used for idleUnloadAfter. */
  private void unloadIdle(long now) {
    long idle = config.idleUnloadAfter().toNanos();
    if (idle == 0) {
      return;
    }
    for (Model m : models.values()) {
      if (m.residency == Residency.RESIDENT && m.inFlight == 0 && !m.hasWork()
          && swapTarget == null && now - m.lastActiveNanos >= idle) {
        log.info("scheduler: {} idle for {} s", m.name, (now - m.lastActiveNanos) / 1_000_000_000L);
        m.residency = Residency.UNLOADING;
        startUnload(m);
      }
    }
  }

  /** Dispatches to loaded models while they have work and free slots. */
  private boolean dispatchResident(long now) {
    boolean any = false;
    while (true) {
      Job best = null;
      Model bestModel = null;
      for (Model m : models.values()) {
        if (m.residency != Residency.RESIDENT || m.draining || !m.hasWork()
            || m.inFlight >= m.upstream.parallel()) {
          continue;
        }
        Job j = head(m, now);
        if (best == null || compare(j, best, now) < 0) {
          best = j;
          bestModel = m;
        }
      }
      if (best == null) {
        return any;
      }
      bestModel.queue.remove(best);
      queued--;
      dispatch(bestModel, best, now);
      any = true;
    }
  }

  private void dispatch(Model m, Job job, long now) {
    job.state = 1;
    job.dispatchedNanos = now;
    m.inFlight++;
    m.lastActiveNanos = now;
    waits.get(job.requestClass).add(now - job.enqueuedNanos);
    try {
      observer.queueWait(m.name, label(job.requestClass), java.time.Duration.ofNanos(now - job.enqueuedNanos));
    } catch (RuntimeException e) {
      log.warn("scheduler observer failed: {}", e.toString());
    }
    pin(m, job.body);
    try {
      job.work.start(job.body, job);
    } catch (RuntimeException e) {
      log.error("scheduler: starting a request for {} failed", m.name, e);
      job.state = 2;
      m.inFlight--;
    }
  }

  private void pin(Model m, ObjectNode body) {
    JsonNode o = body.get("options");
    ObjectNode opts = o instanceof ObjectNode on ? on : body.putObject("options");
    if (m.pinned == null) {
      Map<String, JsonNode> pins = new TreeMap<>();
      opts.fields().forEachRemaining(e -> {
        if (OllamaJson.LOAD_OPTIONS.contains(e.getKey())) {
          pins.put(e.getKey(), e.getValue());
        }
      });
      Map<String, Object> configured = config.pinnedOptions().get(m.name);
      if (configured != null) {
        configured.forEach((k, v) -> pins.put(k, OllamaJson.MAPPER.valueToTree(v)));
      }
      m.pinned = pins;
    }
    for (String k : OllamaJson.LOAD_OPTIONS) {
      opts.remove(k);
    }
    m.pinned.forEach(opts::set);
    // The scheduler owns residency: the upstream must not unload on its own.
    body.put("keep_alive", -1);
  }

  // ------------------------------------------------------------------ helpers

  private Job head(Model m, long now) {
    Job best = null;
    for (Job j : m.queue) {
      if (best == null || compare(j, best, now) < 0) {
        best = j;
      }
    }
    return best;
  }

  private int compare(Job a, Job b, long now) {
    boolean ai = a.effectivelyInteractive(now);
    boolean bi = b.effectivelyInteractive(now);
    if (ai != bi) {
      return ai ? -1 : 1;
    }
    return Long.compare(a.enqueuedNanos, b.enqueuedNanos);
  }

  /** Lower is more urgent: interactive first, then the oldest waiter. */
  private double rank(Model m, long now) {
    return (bestInteractive(m, now) ? 0 : 1e18) + oldest(m);
  }

  private boolean bestInteractive(Model m, long now) {
    for (Job j : m.queue) {
      if (j.effectivelyInteractive(now)) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasInteractive(Model m) {
    for (Job j : m.queue) {
      if (j.requestClass == RequestClass.INTERACTIVE) {
        return true;
      }
    }
    return false;
  }

  private static long oldest(Model m) {
    long o = Long.MAX_VALUE;
    for (Job j : m.queue) {
      o = Math.min(o, j.enqueuedNanos);
    }
    return o;
  }

  private boolean fits(Model want) {
    if (residentCount() + 1 > config.maxLoadedModels()) {
      return false;
    }
    return config.memoryBudgetBytes() == 0
        || residentBytes() + want.sizeBytes <= config.memoryBudgetBytes();
  }

  private int residentCount() {
    int n = 0;
    for (Model m : models.values()) {
      if (m.residency != Residency.ABSENT) {
        n++;
      }
    }
    return n;
  }

  private long residentBytes() {
    long n = 0;
    for (Model m : models.values()) {
      if (m.residency != Residency.ABSENT) {
        n += m.sizeBytes;
      }
    }
    return n;
  }

  /** Wakes the scheduler when aging, maxGroupWait or linger may change a decision. */
  private void armTimer(long now) {
    long next = Long.MAX_VALUE;
    long lastActive = Long.MIN_VALUE;
    for (Model m : models.values()) {
      if (m.residency == Residency.RESIDENT) {
        lastActive = Math.max(lastActive, m.lastActiveNanos);
      }
    }
    for (Model m : models.values()) {
      if (config.idleUnloadAfter().toNanos() > 0 && m.residency == Residency.RESIDENT
          && m.inFlight == 0 && !m.hasWork()) {
        next = Math.min(next, m.lastActiveNanos + config.idleUnloadAfter().toNanos());
      }
      for (Job j : m.queue) {
        if (j.requestClass == RequestClass.BATCH && now - j.enqueuedNanos < agingNanos) {
          next = Math.min(next, j.enqueuedNanos + agingNanos);
        }
      }
      if (m.residency == Residency.ABSENT && m.hasWork()) {
        long starve = oldest(m) + config.maxGroupWait().toNanos();
        for (Model r : models.values()) {
          if (r.residency == Residency.RESIDENT) {
            starve = Math.max(starve, r.loadedAtNanos + config.maxGroupWait().toNanos());
          }
        }
        next = Math.min(next, starve);
        if (lastActive != Long.MIN_VALUE) {
          long lingerEnd = lastActive + config.linger().toNanos();
          if (lingerEnd > now) {
            next = Math.min(next, lingerEnd);
          }
        }
      }
    }
    if (next == Long.MAX_VALUE || next <= now) {
      if (next <= now && next != Long.MAX_VALUE) {
        next = now + 1_000_000; // deadline passed but not acted on: look again shortly
      } else {
        return;
      }
    }
    if (timer != null && timerAt <= next && !timer.isDone()) {
      return;
    }
    if (timer != null) {
      timer.cancel(false);
    }
    timerAt = next;
    timer = exec.schedule(() -> locked(() -> {
      // Forget this timer first, or the pump below could not arm the next one.
      timer = null;
      timerAt = Long.MAX_VALUE;
      pump();
    }), next - now, TimeUnit.NANOSECONDS);
  }

  // ------------------------------------------------------------------ status

  /** What `thunderlink models` shows. */
  public record Snapshot(List<Loaded> loaded, List<Queue> queues, Map<RequestClass, Waits> waits,
      long loads, long unloads, long swaps, long completed, long cancelled, long rejected,
      int maxLoadedModels, long memoryBudgetBytes) {}

  public record Loaded(String name, String upstream, long sizeBytes, int inFlight,
      long loadedAtUnixMillis, String pinnedOptionsJson) {}

  public record Queue(String model, RequestClass requestClass, int waiting, long oldestWaitMillis) {}

  public record Waits(long count, double p50Millis, double p95Millis, double maxMillis) {}

  /**
   * A consistent snapshot, taken on the scheduler thread under the lock. The future completes
   * once the lock is released: what runs on completion (a status reply, or a caller that submits
   * next) would otherwise run inside the scheduler's task, where a submit misses the idle fast
   * path ({@code ModelSchedulerDispatchTest} failed so on a loaded machine).
   */
  public CompletableFuture<Snapshot> snapshot() {
    CompletableFuture<Snapshot> f = new CompletableFuture<>();
    Snapshot[] taken = new Snapshot[1];
    boolean queued = execute(() -> taken[0] = snapshotNow(), () -> {
      if (taken[0] != null) {
        f.complete(taken[0]);
      } else {
        f.completeExceptionally(new IllegalStateException("scheduler snapshot failed (see the log)"));
      }
    });
    if (!queued) {
      f.completeExceptionally(new IllegalStateException("scheduler closed"));
    }
    return f;
  }

  /** Whether the calling thread is inside a scheduler task or the fast path; for tests. */
  boolean lockedByCurrentThread() {
    return lock.isHeldByCurrentThread();
  }

  private Snapshot snapshotNow() {
    long now = ticker.getAsLong();
    List<Loaded> loaded = new ArrayList<>();
    List<Queue> qs = new ArrayList<>();
    for (Model m : models.values()) {
      if (m.residency == Residency.RESIDENT) {
        ObjectNode pins = OllamaJson.object();
        if (m.pinned != null) {
          m.pinned.forEach(pins::set);
        }
        loaded.add(new Loaded(m.name, m.upstream.name(), m.sizeBytes, m.inFlight,
            m.loadedAtMillis, pins.toString()));
      }
      for (RequestClass c : RequestClass.values()) {
        int n = 0;
        long oldest = Long.MAX_VALUE;
        for (Job j : m.queue) {
          if (j.requestClass == c) {
            n++;
            oldest = Math.min(oldest, j.enqueuedNanos);
          }
        }
        if (n > 0) {
          qs.add(new Queue(m.name, c, n, (now - oldest) / 1_000_000));
        }
      }
    }
    Map<RequestClass, Waits> w = new EnumMap<>(RequestClass.class);
    waits.forEach((c, ring) -> w.put(c, ring.summary()));
    return new Snapshot(loaded, qs, w, loads.get(), unloads.get(), swaps.get(), completed.get(),
        cancelledCount.get(), rejected.get(), config.maxLoadedModels(), config.memoryBudgetBytes());
  }

  /** The most recent queue waits of one class. Guarded by the scheduler's lock. */
  private static final class WaitRing {
    final long[] samples = new long[WAIT_SAMPLES];
    long count;

    void add(long nanos) {
      samples[(int) (count++ % WAIT_SAMPLES)] = nanos;
    }

    Waits summary() {
      int n = (int) Math.min(count, WAIT_SAMPLES);
      if (n == 0) {
        return new Waits(0, 0, 0, 0);
      }
      long[] s = Arrays.copyOf(samples, n);
      Arrays.sort(s);
      return new Waits(count, s[(int) Math.floor((n - 1) * 0.5)] / 1e6,
          s[(int) Math.floor((n - 1) * 0.95)] / 1e6, s[n - 1] / 1e6);
    }
  }

  /**
   * Rejects everything still queued and stops the scheduler thread. Requests in flight are
   * not touched: their owners cancel or finish them.
   */
  @Override
  public void close() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    execute(() -> {
      closed = true;
      for (Model m : models.values()) {
        for (Iterator<Job> it = m.queue.iterator(); it.hasNext(); ) {
          Job j = it.next();
          it.remove();
          j.state = 2;
          j.work.rejected("the scheduler is shutting down");
        }
      }
      queued = 0;
      done.complete(null);
    });
    try {
      done.get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("scheduler did not drain in 5 s: {}", e.toString());
    }
    exec.shutdown();
  }

}
