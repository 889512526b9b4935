package dev.thunderlink.inference;

import dev.thunderlink.inference.internal.SimulatorEngine;
import dev.thunderlink.inference.internal.SimulatorHttpHandler;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A SIMULATED Ollama server: speaks Ollama's HTTP API (same routes, fields and NDJSON stream
 * shapes) over a real socket, but generates placeholder text at configured token rates instead
 * of running a model. It models what matters to a scheduler: a catalogue of model sizes, load
 * time proportional to size, a memory limit with Ollama's eviction, parallel slots, reloads
 * when load-time options differ, {@code keep_alive}, and counters of loads.
 *
 * <p>It says what it is: every response carries the header {@code X-Thunderlink-Simulator},
 * {@code /api/version} has a {@code "simulator"} field, {@code /} answers "Ollama is running
 * (thunderlink simulator)", and the text it generates says so.
 *
 * <p>Threading: one Netty event loop runs the server and all simulated state. {@link #start},
 * {@link #counters} and {@link #close} may be called from any thread.
 */
public final class OllamaSimulator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OllamaSimulator.class);

  private final SimulatorConfig config;
  private final EventLoopGroup group;
  private final SimulatorEngine engine;
  private final Channel serverChannel;
  private final ChannelGroup connections;

  private OllamaSimulator(SimulatorConfig config, EventLoopGroup group, SimulatorEngine engine,
      Channel serverChannel, ChannelGroup connections) {
    this.connections = connections;
    this.config = config;
    this.group = group;
    this.engine = engine;
    this.serverChannel = serverChannel;
  }

  /**
   * Binds and starts a simulator.
   *
   * @throws IllegalStateException if the port cannot be bound, naming it
   */
  public static OllamaSimulator start(SimulatorConfig config) {
    return start(config, true);
  }

  /** As {@link #start(SimulatorConfig)}; {@code announce} false logs nothing, now or later (the warm-up's upstream). */
  static OllamaSimulator start(SimulatorConfig config, boolean announce) {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    SimulatorEngine engine = new SimulatorEngine(config, group.next());
    if (!announce) {
      engine.silence();
    }
    ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    try {
      Channel ch = new ServerBootstrap()
          .group(group)
          .channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              connections.add(ch);
              ch.pipeline().addLast(new HttpServerCodec(),
                  new HttpObjectAggregator(config.maxRequestBytes()),
                  new SimulatorHttpHandler(engine));
            }
          })
          .bind(config.bindHost(), config.port()).syncUninterruptibly().channel();
      OllamaSimulator sim = new OllamaSimulator(config, group, engine, ch, connections);
      if (announce) {
        log.info("Ollama SIMULATOR (not a model server) listening on {}: {}", sim.baseUri(), config);
      }
      return sim;
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new IllegalStateException("simulator: cannot listen on " + config.bindHost() + ":"
          + config.port() + ": " + e.getMessage(), e);
    }
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /** e.g. {@code http://127.0.0.1:41234} */
  public URI baseUri() {
    InetSocketAddress a = address();
    return URI.create("http://" + a.getAddress().getHostAddress() + ":" + a.getPort());
  }

  public SimulatorConfig config() {
    return config;
  }

  /** Counters since start: requests, loads, unloads, evictions, reloads, cancellations. */
  public Counters counters() {
    SimulatorEngine.Counters c = engine.counters();
    return new Counters(c.requests(), c.loads(), c.unloads(), c.evictions(), c.reloads(),
        c.completed(), c.cancelled(), c.maxActive(), c.writePauses(), c.loadsByModel());
  }

  /**
   * A snapshot of the simulator's counters; {@code writePauses} counts the times a stream
   * stopped generating because its client did not read (backpressure reached the model).
   */
  public record Counters(long requests, long loads, long unloads, long evictions, long reloads,
      long completed, long cancelled, long maxConcurrentRequests, long writePauses,
      Map<String, Long> loadsByModel) {}

  /** Closes the listening socket and all connections; waits up to 5 s. */
  @Override
  public void close() {
    serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(6, TimeUnit.SECONDS);
  }
}
