package dev.thunderlink.daemon.internal;

import dev.thunderlink.daemon.config.ThunderlinkConfig;
import dev.thunderlink.inference.FrontConfig;
import dev.thunderlink.inference.InferenceHostConfig;
import dev.thunderlink.inference.SchedulerConfig;
import dev.thunderlink.inference.SimulatorConfig;
import dev.thunderlink.inference.UpstreamConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the {@code [inference]} settings into the host's inference configuration. Configured
 * upstreams that answer are used; when none answers (no Ollama on this machine, as on the
 * build machines) the Ollama simulator stands in, and the log says so.
 */
public final class InferenceSetup {
  private static final Logger log = LoggerFactory.getLogger(InferenceSetup.class);

  private InferenceSetup() {}

  public static InferenceHostConfig host(ThunderlinkConfig.Inference cfg, boolean forceSimulator) {
    InferenceHostConfig.Builder b =
        InferenceHostConfig.builder()
            .scheduler(
                SchedulerConfig.builder()
                    .maxLoadedModels(cfg.maxLoadedModels())
                    .memoryBudgetBytes(cfg.memoryBytes())
                    .agingAfter(cfg.batchAging())
                    .build())
            .localFront(FrontConfig.builder().port(cfg.hostApiPort()).interactive(false).build())
            .warmup(warmupRequests(cfg));
    int answering = 0;
    if (!forceSimulator) {
      for (ThunderlinkConfig.Upstream u : cfg.upstreams()) {
        if (answers(u)) {
          b.upstream(
              new UpstreamConfig(
                  u.name(), u.url(), u.kind().equalsIgnoreCase("openai") ? UpstreamConfig.Kind.OPENAI : UpstreamConfig.Kind.OLLAMA, 1,
                  u.modelSizes()));
          answering++;
        } else {
          log.warn("upstream {} at {} does not answer; not using it", u.name(), u.url());
        }
      }
    }
    if (answering == 0) {
      log.warn("no model server answers: the host serves models from the Ollama SIMULATOR (simulated timing, placeholder text)");
      b.simulator(SimulatorConfig.macMini64().build());
    }
    return b.build();
  }

  /** The start-up warm-up's requests: {@code [inference] warmup} on → the default count, off → 0 (none). */
  public static int warmupRequests(ThunderlinkConfig.Inference cfg) {
    return cfg.warmup() ? dev.thunderlink.inference.Warmup.defaultRequests() : 0;
  }

  private static boolean answers(ThunderlinkConfig.Upstream u) {
    String path = u.kind().equalsIgnoreCase("openai") ? "v1/models" : "api/version";
    try {
      URI base = u.url().toString().endsWith("/") ? u.url() : URI.create(u.url() + "/");
      HttpResponse<Void> r =
          HttpClient.newBuilder()
              .connectTimeout(Duration.ofMillis(500))
              .build()
              .send(
                  HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(1)).build(),
                  HttpResponse.BodyHandlers.discarding());
      return r.statusCode() < 500;
    } catch (java.io.IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
