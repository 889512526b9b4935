package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.thunderlink.proto.inference.ForwardRequest;
import dev.thunderlink.proto.inference.ForwardRequestHead;
import dev.thunderlink.proto.inference.ForwardResponse;
import dev.thunderlink.proto.inference.ForwardResponseHead;
import dev.thunderlink.proto.inference.HttpHeader;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's end of {@code Forward}: relays one HTTP request the fronts do not translate to an
 * upstream with {@code java.net.http}, streaming both ways. The upstream is the one serving the
 * model a JSON body names ({@code "model"}), else the first; a JSON body is read whole to find it
 * (the front's body limit bounds it), any other body is streamed as it arrives. Flow control:
 * a request body chunk is asked of gRPC only when the HTTP client wants one, and the next
 * response chunk is read from the upstream only when the gRPC caller is ready for more.
 * Cancelling the call aborts the upstream request (its connection is closed).
 *
 * <p>Scheduling: a relayed request whose JSON body names a model the host serves makes the
 * upstream run that model (Ollama's {@code /api/embeddings}, an OpenAI-compatible server's
 * other endpoints, whatever comes next), so it is admitted by the {@link ModelScheduler} like a
 * chat: it waits its turn, counts against the model's parallel slots, may load the model and
 * so swap another out, and holds its slot until the answer ends. Ollama-native bodies
 * ({@code /api/...}) get the model's pinned options and {@code keep_alive: -1}, as chats do;
 * other bodies go as the client sent them. Bypassing the scheduler is safe only where nothing
 * runs a model: requests naming no model or one no upstream lists (nothing to load), and
 * {@link #MODEL_FILE_PATHS}, which manage model files and never load one (in Ollama they do
 * not go through its scheduler either).
 *
 * <p>Thread-safe. Each exchange's state is touched by gRPC's executor (inbound messages,
 * readiness, cancellation) and the HTTP client's threads (response), under its monitor.
 */
public final class HttpForwarder {
  private static final Logger log = LoggerFactory.getLogger(HttpForwarder.class);

  /** Hop-by-hop headers (RFC 9110 §7.6.1) and those java.net.http sets itself. */
  static final Set<String> NOT_FORWARDED = Set.of("connection", "keep-alive", "proxy-connection",
      "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
      "host", "content-length", "expect", "http2-settings");

  /**
   * Ollama's endpoints that name a model but only manage its files: create, copy, delete, push.
   * They never load it into memory, so they need no slot and cannot upset the budget.
   */
  static final Set<String> MODEL_FILE_PATHS = Set.of("/api/create", "/api/copy", "/api/delete", "/api/push");

  private final HostInference host;
  private final HttpClient http;
  private final Duration headersTimeout;

  public HttpForwarder(HostInference host, Duration connectTimeout, Duration headersTimeout) {
    this.host = host;
    this.headersTimeout = headersTimeout;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(connectTimeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /** Is {@code name} dropped at each hop (or set by the HTTP stack)? */
  public static boolean hopByHop(String name) {
    return NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT));
  }

  /** Starts one exchange; returns the observer gRPC feeds the caller's messages to. */
  public StreamObserver<ForwardRequest> open(StreamObserver<ForwardResponse> response) {
    return open(response, ModelScheduler.RequestClass.INTERACTIVE);
  }

  /**
   * Starts one exchange; a request that runs a model is queued in {@code requestClass}. Returns
   * the observer gRPC feeds the caller's messages to.
   */
  public StreamObserver<ForwardRequest> open(StreamObserver<ForwardResponse> response,
      ModelScheduler.RequestClass requestClass) {
    ServerCallStreamObserver<ForwardResponse> out = (ServerCallStreamObserver<ForwardResponse>) response;
    Exchange ex = new Exchange(out, requestClass);
    out.disableAutoRequest();
    out.setOnCancelHandler(ex::cancelled);
    out.setOnReadyHandler(ex::ready);
    out.request(1); // the head
    return ex;
  }

  private final class Exchange implements StreamObserver<ForwardRequest>, Flow.Publisher<ByteBuffer> {
    private final ServerCallStreamObserver<ForwardResponse> out;
    private final ModelScheduler.RequestClass requestClass;
    // guarded by this
    /** The scheduler's ticket while the request runs a model (queued or relayed); else null. */
    private ModelScheduler.Job job;
    private ForwardRequestHead head;
    private boolean buffering;
    private final ByteArrayOutputStream buffered = new ByteArrayOutputStream();
    private Flow.Subscriber<? super ByteBuffer> bodySubscriber;
    private long bodyDemand;
    private boolean bodyRequested;
    private boolean inboundDone;
    private CompletableFuture<?> sent;
    private Flow.Subscription responseBody;
    private boolean responseOwed;
    private boolean finished;
    private String upstreamName = "?";

    Exchange(ServerCallStreamObserver<ForwardResponse> out, ModelScheduler.RequestClass requestClass) {
      this.out = out;
      this.requestClass = requestClass;
    }

    @Override
    public void onNext(ForwardRequest m) {
      Flow.Subscriber<? super ByteBuffer> sub = null;
      ByteBuffer chunk = null;
      boolean askMore = false;
      synchronized (this) {
        if (finished) {
          return;
        }
        if (head == null) {
          if (!m.hasHead()) {
            fail(Status.INVALID_ARGUMENT.withDescription("the first Forward message must be the head"));
            return;
          }
          head = m.getHead();
          if (!head.getPathAndQuery().startsWith("/")) {
            fail(Status.INVALID_ARGUMENT.withDescription("path must start with /: " + head.getPathAndQuery()));
            return;
          }
          buffering = head.getContentLength() != 0 && isJson(head);
          if (buffering) {
            out.request(1);
          } else {
            send(host.upstreams().get(0), head.getContentLength() == 0
                ? HttpRequest.BodyPublishers.noBody()
                : head.getContentLength() > 0 ? HttpRequest.BodyPublishers.fromPublisher(this, head.getContentLength())
                : HttpRequest.BodyPublishers.fromPublisher(this));
          }
          return;
        }
        if (buffering) {
          buffered.writeBytes(m.getBody().toByteArray());
          out.request(1);
          return;
        }
        bodyRequested = false;
        bodyDemand--;
        sub = bodySubscriber;
        chunk = m.getBody().asReadOnlyByteBuffer();
        if (bodyDemand > 0) {
          bodyRequested = true;
          askMore = true;
        }
      }
      if (sub != null && chunk.hasRemaining()) {
        sub.onNext(chunk);
      }
      if (askMore) {
        out.request(1); // outside the monitor: an in-process caller delivers the next one at once
      }
    }

    @Override
    public void onCompleted() {
      Flow.Subscriber<? super ByteBuffer> sub;
      synchronized (this) {
        inboundDone = true;
        if (finished || head == null) {
          if (head == null) {
            fail(Status.INVALID_ARGUMENT.withDescription("Forward call without a head"));
          }
          return;
        }
        if (buffering) {
          byte[] body = buffered.toByteArray();
          routeByModel(body).whenComplete((r, t) -> {
            if (r.route() != null && !MODEL_FILE_PATHS.contains(pathOf(head.getPathAndQuery()))) {
              admit(r, body);
              return;
            }
            synchronized (this) {
              if (!finished) {
                send(r.upstream(), HttpRequest.BodyPublishers.ofByteArray(body));
              }
            }
          });
          return;
        }
        sub = bodySubscriber;
      }
      if (sub != null) {
        sub.onComplete();
      }
    }

    @Override
    public void onError(Throwable t) {
      cancelled();
    }

    /** Where a buffered body goes: the model's route when it names one an upstream lists. */
    private record Routing(Upstream upstream, HostInference.Route route, ObjectNode json) {}

    /** The upstream serving the model the JSON body names, else the first. */
    private CompletableFuture<Routing> routeByModel(byte[] body) {
      Upstream first = host.upstreams().get(0);
      String model = "";
      ObjectNode json = null;
      try {
        JsonNode n = OllamaJson.MAPPER.readTree(body);
        if (n instanceof ObjectNode o && o.path("model").isTextual()) {
          json = o;
          model = o.get("model").asText();
        }
      } catch (java.io.IOException notJson) {
        // the upstream will say what it thinks of it
      }
      if (model.isBlank()) {
        return CompletableFuture.completedFuture(new Routing(first, null, null));
      }
      ObjectNode j = json;
      return host.resolve(model).handle((r, t) -> r == null
          ? new Routing(first, null, null) : new Routing(r.upstream(), r, j));
    }

    /** Queues the request in the scheduler; it is relayed when its model may run. */
    private void admit(Routing r, byte[] original) {
      boolean ollamaNative = pathOf(head.getPathAndQuery()).startsWith("/api/");
      ObjectNode json = r.json();
      if (ollamaNative) {
        json.put("model", r.route().model());
      }
      ModelScheduler.Job queued = host.scheduler().submit(r.route().model(), r.upstream(),
          r.route().sizeBytes(), requestClass, json, new ModelScheduler.Work() {
            @Override
            public void start(ObjectNode pinned, ModelScheduler.Job running) {
              byte[] bytes = ollamaNative ? OllamaJson.bytes(pinned) : original;
              synchronized (Exchange.this) {
                if (finished) {
                  running.release(); // the client left while it waited
                  return;
                }
                job = running; // before the answer can end and release it
                send(r.upstream(), HttpRequest.BodyPublishers.ofByteArray(bytes));
              }
              running.onCancel(Exchange.this::cancelled);
            }

            @Override
            public void rejected(String reason) {
              synchronized (Exchange.this) {
                fail(Status.RESOURCE_EXHAUSTED.withDescription(reason));
              }
            }
          });
      boolean gone;
      synchronized (this) {
        job = queued;
        gone = finished;
      }
      if (gone) {
        queued.cancel(); // the client left before the ticket was kept: drop it from the queue
        queued.release();
      }
    }

    /** Under the monitor. */
    private void send(Upstream u, HttpRequest.BodyPublisher body) {
      upstreamName = u.name();
      Optional<URI> base = u.baseUri();
      if (base.isEmpty()) {
        fail(Status.UNIMPLEMENTED.withDescription("upstream " + u.name() + " cannot relay plain HTTP"));
        return;
      }
      HttpRequest.Builder b;
      try {
        b = HttpRequest.newBuilder(base.get().resolve(head.getPathAndQuery())).timeout(headersTimeout)
            .method(head.getMethod(), body);
        for (HttpHeader h : head.getHeadersList()) {
          if (!hopByHop(h.getName())) {
            b.header(h.getName(), h.getValue());
          }
        }
      } catch (IllegalArgumentException e) {
        fail(Status.INVALID_ARGUMENT.withDescription("cannot relay " + head.getMethod() + " "
            + head.getPathAndQuery() + ": " + e.getMessage()));
        return;
      }
      HttpRequest req = b.build();
      log.debug("relaying {} {} to upstream {}", head.getMethod(), head.getPathAndQuery(), u.name());
      sent = http.sendAsync(req, HttpResponse.BodyHandlers.ofPublisher()).whenComplete((r, t) -> {
        if (t != null) {
          UpstreamException e = UpstreamException.of(u.name(), t);
          log.info("relaying {} {} to upstream {} failed: {}", head.getMethod(), head.getPathAndQuery(),
              u.name(), e.getMessage());
          synchronized (this) {
            fail(Status.UNAVAILABLE.withDescription(e.getMessage()));
          }
          return;
        }
        respond(r);
      });
    }

    private void respond(HttpResponse<Flow.Publisher<List<ByteBuffer>>> r) {
      synchronized (this) {
        if (finished) {
          r.body().subscribe(new Flow.Subscriber<>() { // drain nothing: close the connection
            @Override public void onSubscribe(Flow.Subscription s) { s.cancel(); }
            @Override public void onNext(List<ByteBuffer> item) { }
            @Override public void onError(Throwable t) { }
            @Override public void onComplete() { }
          });
          return;
        }
        ForwardResponseHead.Builder h = ForwardResponseHead.newBuilder().setStatus(r.statusCode());
        r.headers().map().forEach((name, values) -> {
          if (!hopByHop(name) || name.equalsIgnoreCase("content-length")) {
            values.forEach(v -> h.addHeaders(HttpHeader.newBuilder().setName(name).setValue(v)));
          }
        });
        out.onNext(ForwardResponse.newBuilder().setHead(h).build());
      }
      r.body().subscribe(new Flow.Subscriber<>() {
        @Override
        public void onSubscribe(Flow.Subscription s) {
          synchronized (Exchange.this) {
            if (finished) {
              s.cancel();
              return;
            }
            responseBody = s;
          }
          s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
          boolean more;
          synchronized (Exchange.this) {
            if (finished) {
              return;
            }
            for (ByteBuffer bb : item) {
              if (bb.hasRemaining()) {
                out.onNext(ForwardResponse.newBuilder().setBody(ByteString.copyFrom(bb)).build());
              }
            }
            more = out.isReady();
            responseOwed = !more;
          }
          if (more) {
            responseBody.request(1);
          }
        }

        @Override
        public void onError(Throwable t) {
          synchronized (Exchange.this) {
            if (!finished) {
              log.info("upstream {} broke off the relayed response: {}", upstreamName, t.toString());
              fail(Status.UNAVAILABLE.withDescription("upstream " + upstreamName
                  + " broke off the response: " + t.getMessage()));
            }
          }
        }

        @Override
        public void onComplete() {
          synchronized (Exchange.this) {
            if (!finished) {
              finished = true;
              out.onCompleted();
              releaseJob();
            }
          }
        }
      });
    }

    /** gRPC: the caller can take more. */
    void ready() {
      Flow.Subscription s;
      synchronized (this) {
        if (!responseOwed || finished) {
          return;
        }
        responseOwed = false;
        s = responseBody;
      }
      s.request(1);
    }

    /** The caller went away: abort the upstream request. */
    void cancelled() {
      Flow.Subscription s;
      CompletableFuture<?> f;
      Flow.Subscriber<? super ByteBuffer> sub;
      ModelScheduler.Job j;
      synchronized (this) {
        if (finished) {
          return;
        }
        finished = true;
        s = responseBody;
        f = sent;
        sub = inboundDone ? null : bodySubscriber;
        j = job;
        job = null;
      }
      if (j != null) {
        j.cancel(); // out of the queue, or its slot freed below
        j.release();
      }
      log.info("relayed request to upstream {} cancelled by the caller", upstreamName);
      if (sub != null) {
        sub.onError(new java.io.IOException("the client went away"));
      }
      if (s != null) {
        s.cancel();
      }
      if (f != null) {
        f.cancel(true);
      }
    }

    /** Under the monitor. */
    private void fail(Status s) {
      if (finished) {
        return;
      }
      finished = true;
      out.onError(s.asRuntimeException());
      if (responseBody != null) {
        responseBody.cancel();
      }
      releaseJob();
    }

    /** Under the monitor: the relayed request no longer holds a slot. */
    private void releaseJob() {
      if (job != null) {
        job.release();
        job = null;
      }
    }

    // ---- the request body, as java.net.http pulls it

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
      boolean done;
      synchronized (this) {
        bodySubscriber = subscriber;
        done = inboundDone;
      }
      subscriber.onSubscribe(new Flow.Subscription() {
        @Override
        public void request(long n) {
          boolean ask = false;
          synchronized (Exchange.this) {
            bodyDemand = Math.min(Long.MAX_VALUE / 2, bodyDemand + n);
            if (!bodyRequested && !inboundDone && !finished) {
              bodyRequested = true;
              ask = true;
            }
          }
          if (ask) {
            out.request(1); // outside the monitor, as above
          }
        }

        @Override
        public void cancel() {
          // java.net.http gave up on the request body (the upstream answered or failed)
        }
      });
      if (done) {
        subscriber.onComplete();
      }
    }
  }

  private static String pathOf(String pathAndQuery) {
    int q = pathAndQuery.indexOf('?');
    return q >= 0 ? pathAndQuery.substring(0, q) : pathAndQuery;
  }

  private static boolean isJson(ForwardRequestHead head) {
    for (HttpHeader h : head.getHeadersList()) {
      if (h.getName().equalsIgnoreCase("content-type")) {
        return h.getValue().toLowerCase(Locale.ROOT).contains("json");
      }
    }
    return false;
  }
}
