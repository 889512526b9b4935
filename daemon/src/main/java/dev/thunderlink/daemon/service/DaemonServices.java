package dev.thunderlink.daemon.service;

import dev.thunderlink.daemon.config.ConfigLoader;
import dev.thunderlink.daemon.config.LoadedConfig;
import dev.thunderlink.daemon.config.ThunderlinkConfig;
import dev.thunderlink.daemon.metrics.Metrics;
import dev.thunderlink.daemon.metrics.MetricsEndpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every daemon needs around its own work, started in one call: the effective
 * configuration (warnings logged), the metrics registry and its endpoint, and the shutdown
 * coordinator with the configured grace. A daemon registers its parts with
 * {@link #shutdown()} and then blocks in {@link #awaitShutdown}.
 *
 * <p>The metrics endpoint is registered first, so it closes last: a scrape during the drain
 * still sees the numbers. Created on the main thread; the getters are safe from any thread.
 */
public final class DaemonServices implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DaemonServices.class);

  private final LoadedConfig loaded;
  private final Metrics metrics;
  private final MetricsEndpoint endpoint;
  private final ShutdownCoordinator shutdown;

  private DaemonServices(LoadedConfig loaded, Metrics metrics, MetricsEndpoint endpoint) {
    this.loaded = loaded;
    this.metrics = metrics;
    this.endpoint = endpoint;
    this.shutdown = new ShutdownCoordinator(Duration.ofSeconds(loaded.config().service().shutdownGraceSeconds()));
    if (endpoint != null) {
      shutdown.register(
          ShutdownCoordinator.Participant.of(
              "metrics", () -> {}, () -> CompletableFuture.completedFuture(null), List::of, endpoint::close));
    }
  }

  /**
   * Loads the configuration and starts the metrics endpoint.
   *
   * @param flags command-line values by setting key (see {@link ConfigLoader#load(Path, Map, Map)})
   * @throws dev.thunderlink.daemon.config.ConfigException for bad settings, each named
   * @throws IOException when {@code metrics.port} is in use (the message names the key)
   */
  public static DaemonServices start(Path home, Map<String, ?> flags) throws IOException {
    return start(ConfigLoader.load(home, System.getenv(), flags));
  }

  /** Starts from an already loaded configuration. */
  public static DaemonServices start(LoadedConfig loaded) throws IOException {
    loaded.warnings().forEach(w -> log.warn("config: {}", w));
    Metrics metrics = new Metrics();
    MetricsEndpoint endpoint = MetricsEndpoint.start(metrics, loaded.config().metrics().port()).orElse(null);
    if (endpoint != null) {
      log.info("metrics on http://127.0.0.1:{}/metrics", endpoint.port());
    }
    return new DaemonServices(loaded, metrics, endpoint);
  }

  public ThunderlinkConfig config() {
    return loaded.config();
  }

  public LoadedConfig loaded() {
    return loaded;
  }

  public Metrics metrics() {
    return metrics;
  }

  /** The port the metrics endpoint listens on, empty when {@code metrics.port = 0}. */
  public Optional<Integer> metricsPort() {
    return Optional.ofNullable(endpoint).map(MetricsEndpoint::port);
  }

  /** Register the daemon's parts here, in start order (they are closed in reverse). */
  public ShutdownCoordinator shutdown() {
    return shutdown;
  }

  /**
   * Blocks until SIGTERM or Ctrl-C has run the shutdown (via a JVM shutdown hook), then
   * returns; {@code onDone} gets the report on the hook's thread (log it there: the JVM
   * exits right after).
   */
  public void awaitShutdown(Consumer<ShutdownCoordinator.Report> onDone) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    shutdown.installShutdownHook(
        r -> {
          try {
            log.info("shutdown: {}", r.summary());
            onDone.accept(r);
          } finally {
            done.countDown();
          }
        });
    done.await();
  }

  /** Runs the shutdown now (in-process stop, tests); same order and report as on SIGTERM. */
  @Override
  public void close() {
    shutdown.shutdown();
  }
}
