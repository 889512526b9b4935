package dev.thunderlink.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Paths the fronts do not translate, relayed as plain HTTP: HTTP client → workstation front →
 * gRPC {@code Forward} (grpc-netty on loopback) → host → upstream, and back, streaming both
 * ways. The upstreams are the simulator and a small test-only HTTP server (the JDK's) whose
 * routes hold their answer until the test releases it, so that streaming is observed rather
 * than assumed.
 */
class PlainHttpRelayTest {
  static final ObjectMapper JSON = new ObjectMapper();
  final HttpClient http = HttpClient.newHttpClient();
  final ExecutorService upstreamThreads = Executors.newCachedThreadPool();
  HttpServer upstream;
  URI upstreamUri;
  OllamaSimulator sim;
  InferenceHost host;
  Server link;
  ManagedChannel channel;
  InferenceWorkstation ws;
  URI base;

  /** Released by the test to let the upstream's streamed answer go on. */
  final CountDownLatch release = new CountDownLatch(1);
  /** Counted down when the upstream has read the first piece of a streamed request body. */
  final CountDownLatch gotFirstPiece = new CountDownLatch(1);
  /** Counted down when the upstream's write to a relayed connection failed (peer gone). */
  final CountDownLatch upstreamSawDisconnect = new CountDownLatch(1);
  final AtomicLong upstreamPiecesWritten = new AtomicLong();
  final Map<String, String> lastRequestHeaders = new ConcurrentHashMap<>();
  final java.util.concurrent.atomic.AtomicReference<String> lastRequestBody = new java.util.concurrent.atomic.AtomicReference<>();

  @BeforeEach
  void startUpstream() throws IOException {
    upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    upstream.setExecutor(upstreamThreads);
    upstream.createContext("/api/tags", ex -> send(ex, 200,
        "{\"models\":[{\"name\":\"echo:1\",\"model\":\"echo:1\",\"size\":1000}]}"));
    upstream.createContext("/api/ps", ex -> send(ex, 200, "{\"models\":[]}"));
    upstream.createContext("/custom/stream", ex -> {
      record(ex);
      ex.getResponseHeaders().add("Content-Type", "text/plain");
      ex.getResponseHeaders().add("X-Echo-Query", String.valueOf(ex.getRequestURI().getRawQuery()));
      ex.sendResponseHeaders(200, 0); // chunked
      try (OutputStream out = ex.getResponseBody()) {
        out.write("first\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
        awaitQuietly(release);
        out.write("second\n".getBytes(StandardCharsets.UTF_8));
      }
    });
    upstream.createContext("/custom/echo", ex -> {
      record(ex);
      ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(201, 0);
      try (InputStream in = ex.getRequestBody(); OutputStream out = ex.getResponseBody()) {
        byte[] buf = new byte[8192];
        int n;
        boolean first = true;
        while ((n = in.read(buf)) > 0) {
          out.write(new String(buf, 0, n, StandardCharsets.UTF_8).toUpperCase().getBytes(StandardCharsets.UTF_8));
          out.flush();
          if (first) {
            first = false;
            gotFirstPiece.countDown();
          }
        }
        if (String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")).contains("octet-stream")) {
          out.write("END-1\n".getBytes(StandardCharsets.UTF_8));
          out.flush();
          awaitQuietly(release);
          out.write("END-2\n".getBytes(StandardCharsets.UTF_8));
        }
      }
    });
    upstream.createContext("/custom/forever", ex -> {
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      try {
        while (true) {
          out.write("tick\n".getBytes(StandardCharsets.UTF_8));
          out.flush();
          upstreamPiecesWritten.incrementAndGet();
          if (release.await(20, TimeUnit.MILLISECONDS)) { // pacing, not a wait for a condition
            break;
          }
        }
        out.close();
      } catch (IOException gone) {
        upstreamSawDisconnect.countDown();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        ex.close();
      }
    });
    upstream.createContext("/api/embeddings", ex -> { // Ollama's legacy embeddings: echoes the body it got
      record(ex);
      lastRequestBody.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      send(ex, 200, "{\"embedding\":[0.5]}");
    });
    upstream.createContext("/custom/broken", ex -> {
      ex.sendResponseHeaders(200, 1000); // promises 1000 bytes, sends 6, then hangs up
      OutputStream out = ex.getResponseBody();
      out.write("part1\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      ex.close(); // bytes missing: the JDK server drops the connection

    });
    upstream.start();
    upstreamUri = URI.create("http://127.0.0.1:" + upstream.getAddress().getPort());
  }

  void record(HttpExchange ex) {
    lastRequestHeaders.clear();
    ex.getRequestHeaders().forEach((k, v) -> lastRequestHeaders.put(k.toLowerCase(), String.join(",", v)));
  }

  static void send(HttpExchange ex, int status, String json) throws IOException {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  static void awaitQuietly(CountDownLatch l) {
    try {
      l.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A SubmissionPublisher drops what is submitted before the HTTP client subscribes. */
  static void subscribed(SubmissionPublisher<?> p) {
    Await.until(Duration.ofSeconds(10), "the HTTP client reads the request body", () -> p.getNumberOfSubscribers() > 0);
  }

  void startPair(InferenceHostConfig.Builder hostConfig, FrontConfig.Builder front) throws Exception {
    host = InferenceHost.start(hostConfig.noLocalFront().connectTimeout(Duration.ofSeconds(1)).build());
    link = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(host.linkService()).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", link.getPort()).usePlaintext().build();
    ws = InferenceWorkstation.start(front.port(0).build(), channel);
    base = URI.create("http://127.0.0.1:" + ws.address().getPort());
  }

  void startPair() throws Exception {
    startPair(InferenceHostConfig.builder().upstream(new UpstreamConfig("test", upstreamUri,
        UpstreamConfig.Kind.OLLAMA, 1)), FrontConfig.builder());
  }

  @AfterEach
  void tearDown() {
    release.countDown();
    if (ws != null) ws.close();
    if (channel != null) channel.shutdownNow();
    if (link != null) link.shutdownNow();
    if (host != null) host.close();
    if (sim != null) sim.close();
    upstream.stop(0);
    upstreamThreads.shutdownNow();
  }

  @Test
  void getIsRelayedAndItsAnswerStreamsBeforeTheUpstreamHasFinished() throws Exception {
    startPair();
    HttpResponse<Stream<String>> r = http.send(HttpRequest.newBuilder(base.resolve("/custom/stream?a=1&b=two"))
        .header("X-Custom", "kept").build(), HttpResponse.BodyHandlers.ofLines());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-echo-query")).hasValue("a=1&b=two");
    assertThat(r.headers().firstValue("content-type")).hasValue("text/plain");
    Iterator<String> lines = r.body().iterator();
    // The upstream holds "second" until released: "first" must already be here.
    assertThat(lines.next()).isEqualTo("first");
    release.countDown();
    assertThat(lines.next()).isEqualTo("second");
    assertThat(lines.hasNext()).isFalse();
    assertThat(lastRequestHeaders).containsEntry("x-custom", "kept");
  }

  @Test
  void postBodyStreamsToTheUpstreamAndItsAnswerStreamsBack() throws Exception {
    startPair();
    SubmissionPublisher<ByteBuffer> body = new SubmissionPublisher<>();
    var response = http.sendAsync(HttpRequest.newBuilder(base.resolve("/custom/echo"))
        .header("Content-Type", "application/octet-stream")
        .POST(HttpRequest.BodyPublishers.fromPublisher(body)).build(), HttpResponse.BodyHandlers.ofLines());
    subscribed(body);
    body.submit(ByteBuffer.wrap("hello\n".getBytes(StandardCharsets.UTF_8)));
    // The request is not finished: the upstream sees its first piece all the same.
    assertThat(gotFirstPiece.await(10, TimeUnit.SECONDS)).as("upstream got the first piece").isTrue();
    body.submit(ByteBuffer.wrap("world\n".getBytes(StandardCharsets.UTF_8)));
    body.close();
    // java.net.http (this client, and the host's) reads the answer once the request is sent.
    HttpResponse<Stream<String>> r = response.get(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(201);
    Iterator<String> lines = r.body().iterator();
    assertThat(lines.next()).isEqualTo("HELLO");
    assertThat(lines.next()).isEqualTo("WORLD");
    // The upstream holds its last line until released: what came before is already here.
    assertThat(lines.next()).isEqualTo("END-1");
    release.countDown();
    assertThat(lines.next()).isEqualTo("END-2");
    assertThat(lines.hasNext()).isFalse();
    assertThat(lastRequestHeaders).containsEntry("content-type", "application/octet-stream");
  }

  @Test
  void simulatorPathsTheFrontsDoNotTranslateAreRelayedWithTheUpstreamsOwnStatus() throws Exception {
    sim = OllamaSimulator.start(SimulatorConfig.builder().timeScale(1000)
        .model(SimulatedModel.of("coder:32b", 20_000_000_000L)).build());
    startPair(InferenceHostConfig.builder().upstream(UpstreamConfig.ollama(sim.baseUri())), FrontConfig.builder());
    HttpResponse<String> counters = http.send(HttpRequest.newBuilder(base.resolve("/simulator/counters")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(counters.statusCode()).isEqualTo(200);
    assertThat(counters.headers().firstValue("x-thunderlink-simulator")).isPresent();
    assertThat(JSON.readTree(counters.body()).has("loads")).as(counters.body()).isTrue();

    HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(base.resolve("/api/some-new-endpoint")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.headers().firstValue("x-thunderlink-simulator")).as("answered by the simulator").isPresent();
  }

  @Test
  void aJsonBodyNamingAModelGoesToTheUpstreamServingIt() throws Exception {
    sim = OllamaSimulator.start(SimulatorConfig.builder().timeScale(1000)
        .model(SimulatedModel.of("coder:32b", 20_000_000_000L)).build());
    startPair(InferenceHostConfig.builder().upstream(UpstreamConfig.ollama(sim.baseUri()))
        .upstream(new UpstreamConfig("test", upstreamUri, UpstreamConfig.Kind.OLLAMA, 1)), FrontConfig.builder());
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/custom/echo"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"echo:1\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.body()).isEqualTo("{\"MODEL\":\"ECHO:1\"}");
    // No model named: the first upstream (the simulator), which has no such route.
    HttpResponse<String> first = http.send(HttpRequest.newBuilder(base.resolve("/custom/echo"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"x\":1}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(first.statusCode()).isEqualTo(404);
    assertThat(first.headers().firstValue("x-thunderlink-simulator")).isPresent();
  }

  @Test
  void aRelayedRequestNamingAModelWaitsForItsSlotInTheScheduler() throws Exception {
    startPair(); // upstream "test": echo:1, one parallel slot
    String named = "{\"model\":\"echo:1\"}";
    HttpResponse<Stream<String>> holder = http.send(HttpRequest.newBuilder(base.resolve("/custom/stream"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(named)).build(),
        HttpResponse.BodyHandlers.ofLines());
    Iterator<String> held = holder.body().iterator();
    assertThat(held.next()).isEqualTo("first"); // it runs, and holds echo:1's only slot
    assertThat(host.schedulerStatus().getLoadedList()).singleElement()
        .satisfies(m -> assertThat(m.getInFlight()).isEqualTo(1));

    var waiting = http.sendAsync(HttpRequest.newBuilder(base.resolve("/custom/echo"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(named)).build(),
        HttpResponse.BodyHandlers.ofString());
    Await.until(Duration.ofSeconds(10), "the second request queued behind the first",
        () -> host.schedulerStatus().getQueuesList().stream().anyMatch(q -> q.getWaiting() == 1));
    assertThat(waiting).isNotDone();
    // Managing model files loads nothing: not queued, answered (404 here) while the slot is taken.
    HttpResponse<String> delete = http.send(HttpRequest.newBuilder(base.resolve("/api/delete"))
        .header("Content-Type", "application/json").method("DELETE", HttpRequest.BodyPublishers.ofString(named)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(delete.statusCode()).isEqualTo(404);

    release.countDown();
    assertThat(held.next()).isEqualTo("second");
    HttpResponse<String> echoed = waiting.get(10, TimeUnit.SECONDS);
    assertThat(echoed.statusCode()).isEqualTo(201);
    assertThat(echoed.body()).as("a body outside /api/ goes as sent").isEqualTo("{\"MODEL\":\"ECHO:1\"}");
    Await.until(Duration.ofSeconds(10), "both done, nothing held",
        () -> host.schedulerStatus().getCompleted() == 2 && host.schedulerStatus().getQueuesCount() == 0
            && host.schedulerStatus().getLoadedList().stream().allMatch(m -> m.getInFlight() == 0));
  }

  @Test
  void aRelayedOllamaRequestGetsThePinnedOptionsAndKeepAliveOfAScheduledOne() throws Exception {
    startPair(InferenceHostConfig.builder().upstream(new UpstreamConfig("test", upstreamUri,
        UpstreamConfig.Kind.OLLAMA, 1)).scheduler(SchedulerConfig.builder()
        .pin("echo:1", Map.of("num_ctx", 8192)).build()), FrontConfig.builder());
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/api/embeddings"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"echo:1\",\"prompt\":\"x\",\"options\":{\"num_ctx\":512}}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode sent = JSON.readTree(lastRequestBody.get());
    assertThat(sent.path("options").path("num_ctx").asInt()).isEqualTo(8192);
    assertThat(sent.path("keep_alive").asInt()).isEqualTo(-1);
    assertThat(sent.path("prompt").asText()).isEqualTo("x");
    Await.until(Duration.ofSeconds(10), "counted by the scheduler", () -> host.schedulerStatus().getCompleted() == 1);
  }

  @Test
  void aRelayedRequestTheSchedulerRefusesIs503() throws Exception {
    startPair(InferenceHostConfig.builder().upstream(new UpstreamConfig("test", upstreamUri,
        UpstreamConfig.Kind.OLLAMA, 1)).scheduler(SchedulerConfig.builder().memoryBudgetBytes(10).build()),
        FrontConfig.builder());
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/custom/echo"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"echo:1\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(JSON.readTree(r.body()).path("error").asText()).contains("memory budget");
    assertThat(lastRequestHeaders).as("nothing reached the upstream").isEmpty();
  }

  @Test
  void upstreamDownIs502WithAJsonErrorInThePathsDialect() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    startPair(InferenceHostConfig.builder().upstream(new UpstreamConfig("down",
        URI.create("http://127.0.0.1:" + closedPort), UpstreamConfig.Kind.OLLAMA, 1)), FrontConfig.builder());
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/api/delete"))
        .method("DELETE", HttpRequest.BodyPublishers.ofString("{\"model\":\"x\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("application/json");
    JsonNode e = JSON.readTree(r.body());
    assertThat(e.path("error").asText()).startsWith("upstream unavailable").contains("down");

    HttpResponse<String> openai = http.send(HttpRequest.newBuilder(base.resolve("/v1/files")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(openai.statusCode()).isEqualTo(502);
    assertThat(JSON.readTree(openai.body()).path("error").path("type").asText()).isEqualTo("api_error");
  }

  @Test
  void clientDisconnectCancelsTheUpstreamRequest() throws Exception {
    startPair();
    try (Socket s = new Socket("127.0.0.1", base.getPort())) {
      s.getOutputStream().write(("GET /custom/forever HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      StringBuilder seen = new StringBuilder();
      while (!seen.toString().contains("tick")) {
        int c = in.read();
        assertThat(c).as("answer ended early: " + seen).isNotEqualTo(-1);
        seen.append((char) c);
      }
      assertThat(seen.toString()).startsWith("HTTP/1.1 200");
    }
    long t0 = System.nanoTime();
    assertThat(upstreamSawDisconnect.await(10, TimeUnit.SECONDS))
        .as("the upstream's connection was closed after the client left").isTrue();
    System.out.printf("client disconnect reached the upstream in %.1f ms (write pacing 20 ms)%n",
        (System.nanoTime() - t0) / 1e6);
  }

  @Test
  void bodyOverTheLimitIs413AndNothingIsRelayed() throws Exception {
    startPair(InferenceHostConfig.builder().upstream(new UpstreamConfig("test", upstreamUri,
        UpstreamConfig.Kind.OLLAMA, 1)), FrontConfig.builder().maxBodyBytes(1024));
    HttpResponse<String> declared = http.send(HttpRequest.newBuilder(base.resolve("/custom/echo"))
        .POST(HttpRequest.BodyPublishers.ofString("x".repeat(2000))).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(declared.statusCode()).isEqualTo(413);
    assertThat(JSON.readTree(declared.body()).path("error").asText()).contains("too large");
    assertThat(gotFirstPiece.getCount()).as("the upstream saw nothing").isEqualTo(1);

    // Chunked: the limit is found while streaming; the relay is cancelled.
    SubmissionPublisher<ByteBuffer> body = new SubmissionPublisher<>();
    var response = http.sendAsync(HttpRequest.newBuilder(base.resolve("/v1/uploads"))
        .POST(HttpRequest.BodyPublishers.fromPublisher(body)).build(), HttpResponse.BodyHandlers.ofString());
    subscribed(body);
    body.submit(ByteBuffer.wrap(new byte[800]));
    body.submit(ByteBuffer.wrap(new byte[800]));
    body.close();
    HttpResponse<String> chunked = response.get(10, TimeUnit.SECONDS);
    assertThat(chunked.statusCode()).isEqualTo(413);
    assertThat(JSON.readTree(chunked.body()).path("error").path("message").asText()).contains("too large");
  }

  @Test
  void theFrontsTokenIsRequiredAndNotPassedOn() throws Exception {
    startPair(InferenceHostConfig.builder().upstream(new UpstreamConfig("test", upstreamUri,
        UpstreamConfig.Kind.OLLAMA, 1)), FrontConfig.builder().bearerToken("s3cret"));
    HttpResponse<String> no = http.send(HttpRequest.newBuilder(base.resolve("/custom/stream")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(no.statusCode()).isEqualTo(401);
    release.countDown();
    HttpResponse<String> yes = http.send(HttpRequest.newBuilder(base.resolve("/custom/stream"))
        .header("Authorization", "Bearer s3cret").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(yes.statusCode()).isEqualTo(200);
    assertThat(yes.body()).isEqualTo("first\nsecond\n");
    assertThat(lastRequestHeaders).doesNotContainKey("authorization");
  }

  @Test
  void translatedPathsAreNotRelayed() throws Exception {
    startPair();
    // /api/tags is the front's own (merged from the upstreams through the scheduler's routes).
    HttpResponse<String> tags = http.send(HttpRequest.newBuilder(base.resolve("/api/tags")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(tags.statusCode()).isEqualTo(200);
    List<String> names = new java.util.ArrayList<>();
    JSON.readTree(tags.body()).path("models").forEach(m -> names.add(m.path("name").asText()));
    assertThat(names).containsExactly("echo:1");
    assertThat(lastRequestHeaders).isEmpty(); // /custom routes never hit
  }

  @Test
  void theControlEndpointRelaysForwardCallsToo() throws Exception {
    startPair();
    Server control = io.grpc.inprocess.InProcessServerBuilder.forName("relay-control").directExecutor()
        .addService(ws.controlService()).build().start();
    ManagedChannel local = io.grpc.inprocess.InProcessChannelBuilder.forName("relay-control").directExecutor().build();
    try {
      java.util.concurrent.LinkedBlockingQueue<Object> got = new java.util.concurrent.LinkedBlockingQueue<>();
      var call = dev.thunderlink.proto.inference.InferenceGrpc.newStub(local).forward(
          new io.grpc.stub.StreamObserver<dev.thunderlink.proto.inference.ForwardResponse>() {
            @Override public void onNext(dev.thunderlink.proto.inference.ForwardResponse m) { got.add(m); }
            @Override public void onError(Throwable t) { got.add(t); }
            @Override public void onCompleted() { got.add("done"); }
          });
      call.onNext(dev.thunderlink.proto.inference.ForwardRequest.newBuilder().setHead(
          dev.thunderlink.proto.inference.ForwardRequestHead.newBuilder().setMethod("GET")
              .setPathAndQuery("/custom/stream?via=control")).build());
      call.onCompleted();
      var head = (dev.thunderlink.proto.inference.ForwardResponse) got.poll(10, TimeUnit.SECONDS);
      assertThat(head.getHead().getStatus()).isEqualTo(200);
      assertThat(head.getHead().getHeadersList()).anyMatch(h -> h.getName().equalsIgnoreCase("x-echo-query")
          && h.getValue().equals("via=control"));
      var first = (dev.thunderlink.proto.inference.ForwardResponse) got.poll(10, TimeUnit.SECONDS);
      assertThat(first.getBody().toStringUtf8()).isEqualTo("first\n"); // before the upstream is released
      release.countDown();
      StringBuilder rest = new StringBuilder();
      Object o;
      while (!((o = got.poll(10, TimeUnit.SECONDS)) instanceof String)) {
        assertThat(o).isInstanceOf(dev.thunderlink.proto.inference.ForwardResponse.class);
        rest.append(((dev.thunderlink.proto.inference.ForwardResponse) o).getBody().toStringUtf8());
      }
      assertThat(rest.toString()).isEqualTo("second\n");
    } finally {
      local.shutdownNow();
      control.shutdownNow();
    }
  }

  @Test
  void anUpstreamBreakingOffMidAnswerBreaksTheClientsConnectionToo() throws Exception {
    startPair();
    try (Socket s = new Socket("127.0.0.1", base.getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(("GET /custom/broken HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      byte[] all = s.getInputStream().readAllBytes(); // returns when the front closes the connection
      String text = new String(all, StandardCharsets.UTF_8);
      assertThat(text).startsWith("HTTP/1.1 200").contains("content-length: 1000").endsWith("part1\n");
    }
  }

  @Test
  void theHostsOwnFrontRelaysToo() throws Exception {
    host = InferenceHost.start(InferenceHostConfig.builder().upstream(new UpstreamConfig("test", upstreamUri,
        UpstreamConfig.Kind.OLLAMA, 1)).localFront(FrontConfig.builder().port(0).build()).build());
    URI local = URI.create("http://127.0.0.1:" + host.localFrontAddress().orElseThrow().getPort());
    SubmissionPublisher<ByteBuffer> body = new SubmissionPublisher<>();
    var response = http.sendAsync(HttpRequest.newBuilder(local.resolve("/custom/echo"))
        .header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.fromPublisher(body)).build(), HttpResponse.BodyHandlers.ofString());
    subscribed(body);
    body.submit(ByteBuffer.wrap("in-process\n".getBytes(StandardCharsets.UTF_8)));
    assertThat(gotFirstPiece.await(10, TimeUnit.SECONDS)).isTrue();
    body.submit(ByteBuffer.wrap("relay\n".getBytes(StandardCharsets.UTF_8)));
    body.close();
    HttpResponse<String> r = response.get(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.body()).isEqualTo("IN-PROCESS\nRELAY\n");
  }
}
