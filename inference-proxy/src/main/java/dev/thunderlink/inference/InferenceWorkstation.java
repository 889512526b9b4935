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
  private final Warmup warmup;

  private InferenceWorkstation(FrontServer front, io.grpc.BindableService controlService, Warmup warmup) {
    this.front = front;
    this.controlService = controlService;
    this.warmup = warmup;
  }

  /**
   * Binds the front port; with {@link FrontConfig#warmup()}, then starts the JIT warm-up in the
   * background ({@link Warmup}: a private pair of its own, nothing sent over {@code hostChannel}).
   *
   * @throws IllegalStateException "port 11434 on 127.0.0.1 is in use ..." if it is taken
   */
  public static InferenceWorkstation start(FrontConfig config, Channel hostChannel) {
    FrontServer f = FrontServer.start(new FrontServer.Settings(config.bindHost(), config.port(),
        config.maxBodyBytes(), config.bearerToken().orElse(null), !config.allowRemoteClients(),
        config.interactive() ? Priority.PRIORITY_INTERACTIVE : Priority.PRIORITY_BATCH, "workstation"),
        new InferenceClient(hostChannel));
    return new InferenceWorkstation(f, new dev.thunderlink.inference.internal.ForwardingInferenceService(
        new InferenceClient(hostChannel)), config.warmup() > 0 ? Warmup.acquire(config.warmup()) : null);
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

  /** The start-up warm-up ({@link FrontConfig#warmup()}; {@link Warmup#done()}); empty when off. */
  public java.util.Optional<Warmup> warmup() {
    return java.util.Optional.ofNullable(warmup);
  }

  @Override
  public void close() {
    if (warmup != null) {
      warmup.release();
    }
    front.close();
  }
}
