package dev.thunderlink.inference.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.inference.Await;
import dev.thunderlink.inference.SchedulerConfig;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** On which thread the scheduler starts requests: the submitting one when nothing waits. */
class ModelSchedulerDispatchTest {
  private static final String MODEL = "m:1b";
  private final ModelScheduler scheduler = new ModelScheduler(SchedulerConfig.defaults());
  private final OneSlotUpstream upstream = new OneSlotUpstream();

  @AfterEach
  void close() {
    scheduler.close();
  }

  private Started submit() {
    Started s = new Started();
    scheduler.submit(MODEL, upstream, 1000, ModelScheduler.RequestClass.INTERACTIVE,
        Collect.chat(MODEL, "hi"), s);
    return s;
  }

  /** Loads the model through the scheduler thread and lets its first request finish. */
  private void loadModel() {
    Started first = submit();
    Await.until(Duration.ofSeconds(5), "the first request starts", () -> first.job != null);
    assertThat(first.thread).isNotSameAs(Thread.currentThread()); // the load went the long way
    first.job.release();
    Await.until(Duration.ofSeconds(5), "the slot is free",
        () -> scheduler.snapshot().join().loaded().get(0).inFlight() == 0);
  }

  @Test
  void aRequestForALoadedModelWithAFreeSlotStartsOnTheSubmittingThread() {
    loadModel();
    Started second = submit();
    assertThat(second.job).as("started before submit returned").isNotNull();
    assertThat(second.thread).isSameAs(Thread.currentThread());
    assertThat(scheduler.snapshot().join().loaded().get(0).inFlight()).isEqualTo(1);
    second.job.release();
    Await.until(Duration.ofSeconds(5), "released", () -> scheduler.snapshot().join().completed() == 2);
  }

  @Test
  void aRequestThatMustWaitForASlotStartsOnTheSchedulerThreadWhenTheSlotFrees() {
    loadModel();
    Started running = submit();
    Started waiting = submit();
    assertThat(waiting.job).isNull();
    Await.until(Duration.ofSeconds(5), "queued", () -> !scheduler.snapshot().join().queues().isEmpty());
    running.job.release();
    Await.until(Duration.ofSeconds(5), "the waiter starts", () -> waiting.job != null);
    assertThat(waiting.thread).isNotSameAs(Thread.currentThread());
  }

  @Test
  void aSnapshotCompletesOnceTheSchedulerHasLetGo() throws Exception {
    // The first request goes the long way (the model loads): its start runs in a scheduler task.
    // Held there, it queues the snapshot's task behind it, so the snapshot completes on the
    // scheduler thread and the callback below runs where it completes.
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch hold = new CountDownLatch(1);
    Started first = new Started() {
      @Override
      public void start(ObjectNode body, ModelScheduler.Job j) {
        super.start(body, j);
        entered.countDown();
        try {
          hold.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
    scheduler.submit(MODEL, upstream, 1000, ModelScheduler.RequestClass.INTERACTIVE,
        Collect.chat(MODEL, "hi"), first);
    assertThat(entered.await(5, TimeUnit.SECONDS)).as("the first request starts").isTrue();
    CompletableFuture<Boolean> lockedOnCompletion = scheduler.snapshot()
        .thenApply(s -> Thread.currentThread() == first.thread && scheduler.lockedByCurrentThread());
    CompletableFuture<Thread> completedOn = scheduler.snapshot().thenApply(s -> Thread.currentThread());
    hold.countDown();

    assertThat(completedOn.get(5, TimeUnit.SECONDS)).as("completed on the scheduler thread").isSameAs(first.thread);
    assertThat(lockedOnCompletion.get(5, TimeUnit.SECONDS)).as("the scheduler still held its lock").isFalse();
    first.job.release();
  }

  /** Records where and when {@link ModelScheduler.Work#start} ran. */
  private static class Started implements ModelScheduler.Work {
    volatile ModelScheduler.Job job;
    volatile Thread thread;

    @Override
    public void start(ObjectNode body, ModelScheduler.Job j) {
      thread = Thread.currentThread();
      job = j;
    }

    @Override
    public void rejected(String reason) {
      throw new AssertionError("rejected: " + reason);
    }
  }

  /** An upstream with one slot that the scheduler only loads and unloads through. */
  private static final class OneSlotUpstream implements Upstream {
    @Override
    public String name() {
      return "one-slot";
    }

    @Override
    public CompletableFuture<JsonNode> get(String path) {
      return CompletableFuture.completedFuture(OllamaJson.object());
    }

    @Override
    public CompletableFuture<JsonNode> post(String path, JsonNode body) {
      return CompletableFuture.completedFuture(OllamaJson.object());
    }

    @Override
    public Stream stream(String path, ObjectNode body, Observer observer) {
      throw new UnsupportedOperationException("the test's Work never streams");
    }

    @Override
    public CompletableFuture<Void> unload(String model) {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public int parallel() {
      return 1;
    }

    @Override
    public void close() {}
  }
}
