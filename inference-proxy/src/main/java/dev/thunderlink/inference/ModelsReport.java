package dev.thunderlink.inference;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.inference.internal.OllamaJson;
import dev.thunderlink.proto.inference.InferenceGrpc;
import dev.thunderlink.proto.inference.LoadedModel;
import dev.thunderlink.proto.inference.QueueEntry;
import dev.thunderlink.proto.inference.SchedulerStatusRequest;
import dev.thunderlink.proto.inference.SchedulerStatusResponse;
import dev.thunderlink.proto.inference.WaitStats;
import io.grpc.Channel;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What {@code thunderlink models [--json]} prints: loaded models, queues per model and class,
 * waits, loads and swaps. The CLI command fetches and renders:
 * {@code System.out.print(ModelsReport.render(ModelsReport.fetch(channel), json))}. Stateless.
 */
public final class ModelsReport {
  private ModelsReport() {}

  /** Asks the host (over the link channel) for the scheduler's state; waits up to 5 s. */
  public static SchedulerStatusResponse fetch(Channel channel) {
    return InferenceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
        .schedulerStatus(SchedulerStatusRequest.getDefaultInstance());
  }

  private static String cls(dev.thunderlink.proto.inference.Priority p) {
    return p == dev.thunderlink.proto.inference.Priority.PRIORITY_INTERACTIVE ? "interactive" : "batch";
  }

  /** A table for people, or JSON (stable field names) for scripts. */
  public static String render(SchedulerStatusResponse s, boolean json) {
    if (json) {
      ObjectNode o = OllamaJson.object();
      ArrayNode loaded = o.putArray("loaded");
      for (LoadedModel m : s.getLoadedList()) {
        ObjectNode e = loaded.addObject();
        e.put("name", m.getName());
        e.put("upstream", m.getUpstream());
        e.put("size_bytes", m.getSizeBytes());
        e.put("in_flight", m.getInFlight());
        e.put("loaded_at_unix_millis", m.getLoadedAtUnixMillis());
        e.put("pinned_options", m.getPinnedOptionsJson());
      }
      ArrayNode queues = o.putArray("queues");
      for (QueueEntry q : s.getQueuesList()) {
        ObjectNode e = queues.addObject();
        e.put("model", q.getModel());
        e.put("class", cls(q.getPriority()));
        e.put("waiting", q.getWaiting());
        e.put("oldest_wait_millis", q.getOldestWaitMillis());
      }
      ObjectNode waits = o.putObject("waits");
      for (WaitStats w : s.getWaitsList()) {
        ObjectNode e = waits.putObject(cls(w.getPriority()));
        e.put("count", w.getCount());
        e.put("p50_millis", w.getP50Millis());
        e.put("p95_millis", w.getP95Millis());
        e.put("max_millis", w.getMaxMillis());
      }
      o.put("loads", s.getLoads());
      o.put("unloads", s.getUnloads());
      o.put("swaps", s.getSwaps());
      o.put("completed", s.getCompleted());
      o.put("cancelled", s.getCancelled());
      o.put("rejected", s.getFailed());
      o.put("max_loaded_models", s.getMaxLoadedModels());
      o.put("memory_budget_bytes", s.getMemoryBudgetBytes());
      return o.toPrettyString() + "\n";
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "LOADED (max %d%s)%n", s.getMaxLoadedModels(),
        s.getMemoryBudgetBytes() > 0 ? String.format(Locale.ROOT, ", budget %.1f GB", s.getMemoryBudgetBytes() / 1e9) : ""));
    if (s.getLoadedCount() == 0) {
      sb.append("  (none)\n");
    }
    for (LoadedModel m : s.getLoadedList()) {
      sb.append(String.format(Locale.ROOT, "  %-32s %8.1f GB  in flight %d  upstream %s  pinned %s%n",
          m.getName(), m.getSizeBytes() / 1e9, m.getInFlight(), m.getUpstream(), m.getPinnedOptionsJson()));
    }
    sb.append("QUEUES\n");
    if (s.getQueuesCount() == 0) {
      sb.append("  (empty)\n");
    }
    for (QueueEntry q : s.getQueuesList()) {
      sb.append(String.format(Locale.ROOT, "  %-32s %-11s %4d waiting, oldest %d ms%n",
          q.getModel(), cls(q.getPriority()), q.getWaiting(), q.getOldestWaitMillis()));
    }
    sb.append("WAITS (queue time before dispatch)\n");
    for (WaitStats w : s.getWaitsList()) {
      sb.append(String.format(Locale.ROOT, "  %-11s n=%d p50 %.1f ms  p95 %.1f ms  max %.1f ms%n",
          cls(w.getPriority()), w.getCount(), w.getP50Millis(), w.getP95Millis(), w.getMaxMillis()));
    }
    sb.append(String.format(Locale.ROOT, "loads %d  unloads %d  swaps %d  completed %d  cancelled %d  rejected %d%n",
        s.getLoads(), s.getUnloads(), s.getSwaps(), s.getCompleted(), s.getCancelled(), s.getFailed()));
    return sb.toString();
  }
}
