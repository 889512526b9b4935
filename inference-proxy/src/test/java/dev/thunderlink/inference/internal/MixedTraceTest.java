package dev.thunderlink.inference.internal;

import static dev.thunderlink.inference.MixedTrace.Result.quantile;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.inference.MixedTrace;
import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Replays the recorded mixed trace (an interactive user and three agents on two models that do
 * not fit together) through the same simulator twice: straight (Ollama's FIFO), and through the
 * scheduler. Counts model loads and waits; prints the figures. {@code thunderlink bench}'s
 * {@code scheduler} suite reports the same replay.
 */
class MixedTraceTest {
  /**
   * Simulated seconds per real second: the trace replays in about ten seconds. Not faster: at 500x
   * the scheduler's 5 s linger is 10 ms of real time, and a loaded CI machine's scheduling jitter
   * then broke groups apart (24 loads instead of at most 20 was seen once at load 15).
   */
  static final double SCALE = 250;

  @Test
  void schedulerLoadsAtMostHalfAsOftenAsFifoAndServesTheUserFirst() throws Exception {
    List<MixedTrace.Entry> trace = MixedTrace.builtIn();
    MixedTrace.Result fifo = MixedTrace.replay(trace, false, SCALE, Duration.ofMinutes(2));
    MixedTrace.Result sched = MixedTrace.replay(trace, true, SCALE, Duration.ofMinutes(2));
    String report = String.format(Locale.ROOT, """
        mixed trace (%d requests: 1 interactive user + 3 agents, 2 models that do not fit together; simulated seconds)
                      loads  swaps  interactive TTFT p50/p95   batch TTFT p50/p95   makespan
          FIFO        %5d  %5d   %8.1f / %-8.1f     %8.1f / %-8.1f %8.0f
          scheduler   %5d  %5d   %8.1f / %-8.1f     %8.1f / %-8.1f %8.0f
        """, trace.size(),
        fifo.loads(), fifo.swaps(), quantile(fifo.interactiveWaits(), .5), quantile(fifo.interactiveWaits(), .95),
        quantile(fifo.batchWaits(), .5), quantile(fifo.batchWaits(), .95), fifo.makespan(),
        sched.loads(), sched.swaps(), quantile(sched.interactiveWaits(), .5), quantile(sched.interactiveWaits(), .95),
        quantile(sched.batchWaits(), .5), quantile(sched.batchWaits(), .95), sched.makespan());
    System.out.println(report);
    assertThat(fifo.interactiveWaits().length + fifo.batchWaits().length).isEqualTo(trace.size());
    assertThat(sched.loads()).isLessThanOrEqualTo(fifo.loads() / 2);
    assertThat(quantile(sched.interactiveWaits(), .95)).isLessThan(quantile(fifo.interactiveWaits(), .95));
  }

  @Test
  void builtInTraceHasTheUserAndThreeAgentsOnTwoModels() throws Exception {
    List<MixedTrace.Entry> trace = MixedTrace.builtIn();
    assertThat(trace).hasSize(82);
    assertThat(trace.stream().map(MixedTrace.Entry::client).distinct())
        .containsExactlyInAnyOrder("user", "architect", "developer", "reviewer");
    assertThat(trace.stream().map(MixedTrace.Entry::model).distinct()).hasSize(2);
    assertThat(trace.stream().filter(MixedTrace.Entry::interactive).map(MixedTrace.Entry::client).distinct())
        .containsExactly("user");
  }

  @Test
  void malformedTraceLineIsNamed() {
    assertThatThrownBy(() -> MixedTrace.parse(new StringReader("at_millis,client,model,class,num_predict,prompt_chars\n"
        + "100,user,m:1b,urgent,10,10\n")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("trace line 2: 100,user,m:1b,urgent,10,10 (class urgent (expected: interactive or batch))");
    assertThatThrownBy(() -> MixedTrace.parse(new StringReader("x,user,m:1b,batch,10,10\n")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("trace line 1: x,user,m:1b,batch,10,10 (");
  }
}
