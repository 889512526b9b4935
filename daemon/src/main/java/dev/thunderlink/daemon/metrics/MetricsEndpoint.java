package dev.thunderlink.daemon.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.util.Optional;

/**
 * {@code http://127.0.0.1:PORT/metrics} in Prometheus text format. Localhost only: the
 * numbers name paths and models, and nothing on the network needs them. The server runs on
 * the exporter's own daemon threads; {@link #close} stops it at once.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private final HTTPServer server;

  private MetricsEndpoint(HTTPServer server) {
    this.server = server;
  }

  /**
   * Starts the endpoint on {@code metrics.port}, or returns empty when that is 0 (off).
   *
   * @throws IOException naming the port and the key when it is in use
   */
  public static Optional<MetricsEndpoint> start(Metrics metrics, int port) throws IOException {
    if (port == 0) {
      return Optional.empty();
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("metrics.port: " + port + " (expected: 0-65535)");
    }
    return Optional.of(bind(metrics, port));
  }

  /** Binds 127.0.0.1:port; port 0 picks a free one (tests). */
  static MetricsEndpoint bind(Metrics metrics, int port) throws IOException {
    try {
      return new MetricsEndpoint(
          HTTPServer.builder()
              .inetAddress(InetAddress.getLoopbackAddress())
              .port(port)
              .registry(metrics.registry())
              .buildAndStart());
    } catch (BindException e) {
      throw new IOException(
          "metrics.port: " + port + " is already in use on 127.0.0.1 (expected: a free port, or 0 to turn metrics off)", e);
    }
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.close();
  }
}
