package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
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
 * <p>Thread-safe. Each exchange's state is touched by gRPC's executor (inbound messages,
 * readiness, cancellation) and the HTTP client's threads (response), under its monitor.
 */
public final class HttpForwarder {
  private static final Logger log = LoggerFactory.getLogger(HttpForwarder.class);

  /** Hop-by-hop headers (RFC 9110 §7.6.1) and those java.net.http sets itself. */
  static final Set<String> NOT_FORWARDED = Set.of("connection", "keep-alive", "proxy-connection",
      "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
      "host", "content-length", "expect", "http2-settings");

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
    ServerCallStreamObserver<ForwardResponse> out = (ServerCallStreamObserver<ForwardResponse>) response;
    Exchange ex = new Exchange(out);
    out.disableAutoRequest();
    out.setOnCancelHandler(ex::cancelled);
    out.setOnReadyHandler(ex::ready);
    out.request(1); // the head
    return ex;
  }

  private final class Exchange implements StreamObserver<ForwardRequest>, Flow.Publisher<ByteBuffer> {
    private final ServerCallStreamObserver<ForwardResponse> out;
    // guarded by this
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

    Exchange(ServerCallStreamObserver<ForwardResponse> out) {
      this.out = out;
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
          routeByModel(body).whenComplete((u, t) -> {
            synchronized (this) {
              if (!finished) {
                send(u, HttpRequest.BodyPublishers.ofByteArray(body));
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

    /** The upstream serving the model the JSON body names, else the first. */
    private CompletableFuture<Upstream> routeByModel(byte[] body) {
      Upstream first = host.upstreams().get(0);
      String model = "";
      try {
        JsonNode n = OllamaJson.MAPPER.readTree(body);
        if (n != null && n.path("model").isTextual()) {
          model = n.get("model").asText();
        }
      } catch (java.io.IOException notJson) {
        // the upstream will say what it thinks of it
      }
      if (model.isBlank() || host.upstreams().size() == 1) {
        return CompletableFuture.completedFuture(first);
      }
      return host.resolve(model).handle((r, t) -> r == null ? first : r.upstream());
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
      synchronized (this) {
        if (finished) {
          return;
        }
        finished = true;
        s = responseBody;
        f = sent;
        sub = inboundDone ? null : bodySubscriber;
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

  private static boolean isJson(ForwardRequestHead head) {
    for (HttpHeader h : head.getHeadersList()) {
      if (h.getName().equalsIgnoreCase("content-type")) {
        return h.getValue().toLowerCase(Locale.ROOT).contains("json");
      }
    }
    return false;
  }
}
