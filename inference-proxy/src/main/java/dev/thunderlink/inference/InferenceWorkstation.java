package dev.thunderlink.inference;

import dev.thunderlink.inference.internal.FrontServer;
import dev.thunderlink.inference.internal.InferenceClient;
import dev.thunderlink.proto.inference.Priority;
import io.grpc.Channel;
import java.net.InetSocketAddress;

/**
 * The workstation side: the HTTP fronts (Ollama, OpenAI, Anthropic APIs; default
 * 127.0.0.1:11434) translating to the host's gRPC inference service over an
 * {@link io.grpc.Channel} (the link).
 *
 * <p>Usage by the workstation daemon:
 * <pre>{@code
 * InferenceWorkstation ws = InferenceWorkstation.start(FrontConfig.builder().port(apiPort).build(), linkChannel);
 * ...
 * controlServerBuilder.addService(ws.controlService());   // gRPC inference for local tools
 * ws.close();
 * }</pre>
 * Thread-safe.
 */
public final class InferenceWorkstation implements AutoCloseable {
  private final FrontServer front;
  private final io.grpc.BindableService controlService;
  private final Warmup.Slot warmup;

  private InferenceWorkstation(FrontServer front, io.grpc.BindableService controlService, int warmupRequests) {
    this.front = front;
    this.controlService = controlService;
    this.warmup = new Warmup.Slot(warmupRequests);
  }

  /**
   * Binds the front port.
   *
   * @throws IllegalStateException "port 11434 on 127.0.0.1 is in use ..." if it is taken
   */
  public static InferenceWorkstation start(FrontConfig config, Channel hostChannel) {
    FrontServer f = FrontServer.start(new FrontServer.Settings(config.bindHost(), config.port(),
        config.maxBodyBytes(), config.bearerToken().orElse(null), !config.allowRemoteClients(),
        config.interactive() ? Priority.PRIORITY_INTERACTIVE : Priority.PRIORITY_BATCH, "workstation"),
        new InferenceClient(hostChannel));
    return new InferenceWorkstation(f, new dev.thunderlink.inference.internal.ForwardingInferenceService(
        new InferenceClient(hostChannel)), config.warmup());
  }

  /**
   * The inference service for the workstation's local control endpoint (register it there):
   * tools call it with any gRPC library and it forwards to the host, flow control intact.
   */
  public io.grpc.BindableService controlService() {
    return controlService;
  }

  public InetSocketAddress address() {
    return front.address();
  }

  /**
   * Starts the JIT warm-up ({@link Warmup}) of {@link FrontConfig#warmup()} requests in the
   * background, once: a private pair of its own, nothing is sent over the host channel. The
   * workstation daemon calls it when it is ready. Nothing if the configuration has none or this
   * is closed.
   *
   * @return the warm-up ({@link Warmup#done()} completes when it has ended), or empty
   */
  public java.util.Optional<Warmup> startWarmup() {
    return warmup.start();
  }

  /** The warm-up {@link #startWarmup} started, if any. */
  public java.util.Optional<Warmup> warmup() {
    return warmup.current();
  }

  @Override
  public void close() {
    warmup.close();
    front.close();
  }
}
