package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.proto.inference.ChatRequest;
import dev.thunderlink.proto.inference.EmbedRequest;
import dev.thunderlink.proto.inference.EmbedResponse;
import dev.thunderlink.proto.inference.Embedding;
import dev.thunderlink.proto.inference.GenerateChunk;
import dev.thunderlink.proto.inference.GenerateRequest;
import dev.thunderlink.proto.inference.InferenceGrpc;
import dev.thunderlink.proto.inference.ListRequest;
import dev.thunderlink.proto.inference.ListResponse;
import dev.thunderlink.proto.inference.LoadedModel;
import dev.thunderlink.proto.inference.Priority;
import dev.thunderlink.proto.inference.PullProgress;
import dev.thunderlink.proto.inference.PullRequest;
import dev.thunderlink.proto.inference.QueueEntry;
import dev.thunderlink.proto.inference.RunningRequest;
import dev.thunderlink.proto.inference.RunningResponse;
import dev.thunderlink.proto.inference.SchedulerStatusRequest;
import dev.thunderlink.proto.inference.SchedulerStatusResponse;
import dev.thunderlink.proto.inference.ShowRequest;
import dev.thunderlink.proto.inference.ShowResponse;
import dev.thunderlink.proto.inference.VersionRequest;
import dev.thunderlink.proto.inference.VersionResponse;
import dev.thunderlink.proto.inference.WaitStats;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's gRPC inference service, backed by {@link HostInference} (and so the scheduler).
 *
 * <p>Token streams use manual flow control: one upstream object is read per message the
 * client's transport is ready for ({@code isReady}/{@code onReady}), so a slow reader slows the
 * upstream through TCP instead of filling memory. A cancelled call cancels the upstream request
 * or drops it from the queue.
 *
 * <p>Threading: gRPC calls the methods (on the transport's event loop for the token streams
 * when the server runs them inline, see {@code LinkServer.Builder#inline}: nothing here
 * blocks); upstream callbacks arrive on the upstream client's event loop (serially per call)
 * and are the only ones to touch the response observer.
 */
public final class InferenceGrpcService extends InferenceGrpc.InferenceImplBase {
  private static final Logger log = LoggerFactory.getLogger(InferenceGrpcService.class);

  private final HostInference host;
  private final ModelScheduler.RequestClass defaultClass;

  /**
   * @param defaultClass the class of requests that do not say (interactive for the link from
   *     the workstation, batch for the host's local front)
   */
  public InferenceGrpcService(HostInference host, ModelScheduler.RequestClass defaultClass) {
    this.host = host;
    this.defaultClass = defaultClass;
  }

  private ModelScheduler.RequestClass requestClass(Priority p) {
    return switch (p) {
      case PRIORITY_INTERACTIVE -> ModelScheduler.RequestClass.INTERACTIVE;
      case PRIORITY_BATCH -> ModelScheduler.RequestClass.BATCH;
      default -> defaultClass;
    };
  }

  @Override
  public void chat(ChatRequest request, StreamObserver<GenerateChunk> response) {
    ObjectNode body;
    try {
      body = ProtoOllama.chatBody(request);
    } catch (ProtoOllama.BadRequest e) {
      response.onError(ProtoOllama.status(e).asRuntimeException());
      return;
    }
    stream("/api/chat", body, requestClass(request.getPriority()), response);
  }

  @Override
  public void generate(GenerateRequest request, StreamObserver<GenerateChunk> response) {
    Hops.mark(Hops.HOST_SEES);
    ObjectNode body;
    try {
      body = ProtoOllama.generateBody(request);
    } catch (ProtoOllama.BadRequest e) {
      response.onError(ProtoOllama.status(e).asRuntimeException());
      return;
    }
    stream("/api/generate", body, requestClass(request.getPriority()), response);
  }

  private void stream(String path, ObjectNode body, ModelScheduler.RequestClass rc,
      StreamObserver<GenerateChunk> response) {
    ServerCallStreamObserver<GenerateChunk> out = (ServerCallStreamObserver<GenerateChunk>) response;
    FlowControlled<JsonNode, GenerateChunk> flow = new FlowControlled<>(out, null);
    HostInference.Call call = host.stream(path, body, rc, flow);
    flow.mapper = o -> ProtoOllama.chunk(o, call.queuedNanos());
    flow.start(call);
  }

  /**
   * Relays upstream objects to a gRPC response stream, one at a time as the transport is
   * ready. The upstream thread sends; onReady only asks the upstream for more.
   */
  static final class FlowControlled<I, O> implements Upstream.Observer {
    /** Upstream objects asked for ahead of the transport: pipelining without unbounded buffers. */
    static final int WINDOW = 16;
    private final ServerCallStreamObserver<O> out;
    volatile Function<JsonNode, O> mapper;
    /** Objects consumed while the transport was not ready, to be asked for again on onReady. */
    private final java.util.concurrent.atomic.AtomicInteger owed = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Upstream.Stream upstream;

    FlowControlled(ServerCallStreamObserver<O> out, Function<JsonNode, O> mapper) {
      this.out = out;
      this.mapper = mapper;
    }

    void start(Upstream.Stream s) {
      upstream = s;
      out.setOnCancelHandler(() -> {
        log.debug("client cancelled; cancelling upstream");
        s.cancel();
      });
      out.setOnReadyHandler(this::repay);
      s.request(WINDOW);
    }

    private void repay() {
      int n = owed.getAndSet(0);
      if (n > 0) {
        upstream.request(n);
      }
    }

    @Override
    public void onObject(JsonNode object) {
      if (out.isCancelled()) {
        return;
      }
      out.onNext(mapper.apply(object));
      Hops.mark(Hops.HOST_SENDS);
      // Replace the consumed object only while the transport can take more; otherwise owe it
      // until onReady. Check readiness after recording the debt, or a wake-up could be lost.
      owed.incrementAndGet();
      if (out.isReady()) {
        repay();
      }
    }

    @Override
    public void onError(UpstreamException error) {
      if (!out.isCancelled()) {
        log.info("inference call failed: {}", error.getMessage());
        out.onError(ProtoOllama.status(error).asRuntimeException());
      }
    }

    @Override
    public void onComplete() {
      if (!out.isCancelled()) {
        out.onCompleted();
      }
    }
  }

  @Override
  public void embed(EmbedRequest request, StreamObserver<EmbedResponse> response) {
    ObjectNode body = OllamaJson.object();
    body.put("model", request.getModel());
    var in = body.putArray("input");
    request.getInputList().forEach(in::add);
    if (request.getTruncate()) {
      body.put("truncate", true);
    }
    if (request.getDimensions() > 0) {
      body.put("dimensions", request.getDimensions());
    }
    CompletableFuture<JsonNode> f;
    try {
      if (!request.getOptionsJson().isEmpty()) {
        body.set("options", OllamaJson.MAPPER.readTree(request.getOptionsJson()));
      }
      f = host.embed(body, requestClass(request.getPriority()));
    } catch (java.io.IOException e) {
      response.onError(io.grpc.Status.INVALID_ARGUMENT.withDescription("options_json: "
          + OllamaJson.parseError(e)).asRuntimeException());
      return;
    }
    ((ServerCallStreamObserver<EmbedResponse>) response).setOnCancelHandler(() -> f.cancel(true));
    reply(f.thenApply(r -> {
      EmbedResponse.Builder b = EmbedResponse.newBuilder().setModel(r.path("model").asText())
          .setTotalDuration(r.path("total_duration").asLong())
          .setLoadDuration(r.path("load_duration").asLong())
          .setPromptEvalCount(r.path("prompt_eval_count").asLong());
      for (JsonNode v : r.path("embeddings")) {
        Embedding.Builder e = Embedding.newBuilder();
        v.forEach(x -> e.addValues((float) x.asDouble()));
        b.addEmbeddings(e);
      }
      return b.build();
    }), response);
  }

  @Override
  public void list(ListRequest request, StreamObserver<ListResponse> response) {
    reply(host.tags().thenApply(t -> {
      ListResponse.Builder b = ListResponse.newBuilder();
      t.path("models").forEach(m -> b.addModels(ProtoOllama.modelEntry(m)));
      return b.build();
    }), response);
  }

  @Override
  public void running(RunningRequest request, StreamObserver<RunningResponse> response) {
    reply(host.ps().thenApply(t -> {
      RunningResponse.Builder b = RunningResponse.newBuilder();
      t.path("models").forEach(m -> b.addModels(ProtoOllama.modelEntry(m)));
      return b.build();
    }), response);
  }

  @Override
  public void show(ShowRequest request, StreamObserver<ShowResponse> response) {
    ObjectNode body = OllamaJson.object();
    body.put("model", request.getModel());
    if (request.getVerbose()) {
      body.put("verbose", true);
    }
    reply(host.show(body).thenApply(j -> ShowResponse.newBuilder().setJson(j.toString()).build()), response);
  }

  @Override
  public void version(VersionRequest request, StreamObserver<VersionResponse> response) {
    reply(host.version().thenApply(v -> VersionResponse.newBuilder()
        .setVersion(v.path("version").asText(""))
        .setSimulator(v.path("simulator").asText("")).build()), response);
  }

  @Override
  public void pull(PullRequest request, StreamObserver<PullProgress> response) {
    ObjectNode body = OllamaJson.object();
    body.put("model", request.getModel());
    if (request.getInsecure()) {
      body.put("insecure", true);
    }
    ServerCallStreamObserver<PullProgress> out = (ServerCallStreamObserver<PullProgress>) response;
    FlowControlled<JsonNode, PullProgress> flow = new FlowControlled<>(out, o -> PullProgress.newBuilder()
        .setStatus(o.path("status").asText(""))
        .setDigest(o.path("digest").asText(""))
        .setTotal(o.path("total").asLong())
        .setCompleted(o.path("completed").asLong()).build());
    flow.start(host.pull(body, flow));
  }

  @Override
  public void schedulerStatus(SchedulerStatusRequest request,
      StreamObserver<SchedulerStatusResponse> response) {
    reply(host.scheduler().snapshot().thenApply(InferenceGrpcService::statusOf), response);
  }

  public static SchedulerStatusResponse statusOf(ModelScheduler.Snapshot s) {
    SchedulerStatusResponse.Builder b = SchedulerStatusResponse.newBuilder()
        .setLoads(s.loads()).setUnloads(s.unloads()).setSwaps(s.swaps())
        .setCompleted(s.completed()).setCancelled(s.cancelled()).setFailed(s.rejected())
        .setMaxLoadedModels(s.maxLoadedModels()).setMemoryBudgetBytes(s.memoryBudgetBytes());
    for (ModelScheduler.Loaded l : s.loaded()) {
      b.addLoaded(LoadedModel.newBuilder().setName(l.name()).setUpstream(l.upstream())
          .setSizeBytes(l.sizeBytes()).setInFlight(l.inFlight())
          .setLoadedAtUnixMillis(l.loadedAtUnixMillis()).setPinnedOptionsJson(l.pinnedOptionsJson()));
    }
    for (ModelScheduler.Queue q : s.queues()) {
      b.addQueues(QueueEntry.newBuilder().setModel(q.model()).setPriority(priority(q.requestClass()))
          .setWaiting(q.waiting()).setOldestWaitMillis(q.oldestWaitMillis()));
    }
    s.waits().forEach((c, w) -> b.addWaits(WaitStats.newBuilder().setPriority(priority(c))
        .setCount(w.count()).setP50Millis(w.p50Millis()).setP95Millis(w.p95Millis())
        .setMaxMillis(w.maxMillis())));
    return b.build();
  }

  static Priority priority(ModelScheduler.RequestClass c) {
    return c == ModelScheduler.RequestClass.INTERACTIVE ? Priority.PRIORITY_INTERACTIVE : Priority.PRIORITY_BATCH;
  }

  private static <T> void reply(CompletableFuture<T> f, StreamObserver<T> response) {
    f.whenComplete((v, t) -> {
      if (t != null) {
        io.grpc.Status s = ProtoOllama.status(t);
        log.info("inference call failed: {}", s.getDescription());
        response.onError(s.asRuntimeException());
      } else {
        response.onNext(v);
        response.onCompleted();
      }
    });
  }

  /** Any other HTTP path: relayed to an upstream as plain HTTP, streaming both ways. */
  @Override
  public StreamObserver<dev.thunderlink.proto.inference.ForwardRequest> forward(
      StreamObserver<dev.thunderlink.proto.inference.ForwardResponse> response) {
    return host.forwarder().open(response, defaultClass);
  }
}
