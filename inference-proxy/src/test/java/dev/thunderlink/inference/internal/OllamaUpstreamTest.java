package dev.thunderlink.inference.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thunderlink.inference.Await;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The token-stream client against a scripted NDJSON server on loopback. */
class OllamaUpstreamTest {
  private ScriptedServer server;
  private ManualTimer timer;
  private OllamaUpstream upstream;

  @AfterEach
  void tearDown() throws IOException {
    if (upstream != null) {
      upstream.close();
    }
    if (timer != null) {
      timer.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  private Recording stream(Duration idleTimeout, long demand) throws IOException {
    server = new ScriptedServer();
    timer = new ManualTimer();
    upstream = new OllamaUpstream("scripted", server.uri(), 1, Duration.ofSeconds(2),
        Duration.ofSeconds(5), idleTimeout, timer);
    Recording r = new Recording();
    upstream.stream("/api/generate", OllamaJson.object().put("model", "m"), r).request(demand);
    return r;
  }

  @Test
  void linesSplitAcrossReadsOrSharingOneAreDeliveredWhole() throws IOException {
    Recording r = stream(Duration.ofMinutes(1), 16);
    server.chunk("{\"n\":1}\n{\"n\":2}\n{\"n\"");
    server.chunk(":3,\"s\":\"h\u00e9\"}\r");
    server.chunk(new byte[] {'\n', '{', '"', 's', '"', ':', '"', (byte) 0xc3});
    server.chunk(new byte[] {(byte) 0xa9, '"', '}', '\n', '\n'});
    server.chunk("{\"n\":5}");
    server.end();
    Await.until(Duration.ofSeconds(10), "the stream ends", () -> r.completed);
    assertThat(r.objects).extracting(JsonNode::toString).containsExactly(
        "{\"n\":1}", "{\"n\":2}", "{\"n\":3,\"s\":\"h\u00e9\"}", "{\"s\":\"\u00e9\"}", "{\"n\":5}");
    assertThat(r.error).isNull();
  }

  @Test
  void anUpstreamThatGoesQuietAfterTheFirstIdleCheckStillTimesOut() throws IOException {
    Recording r = stream(Duration.ofMillis(100), 16);
    server.chunk("{\"n\":1}\n");
    Await.until(Duration.ofSeconds(10), "the first line", () -> r.objects.size() == 1);
    server.chunk("{\"n\":2}\n");
    Await.until(Duration.ofSeconds(10), "the second line", () -> r.objects.size() == 2);
    // The first check finds the stream busy (a line just came); it must look again later.
    timer.runDue();
    Await.until(Duration.ofSeconds(10), "the idle timeout", () -> {
      timer.runDue();
      return r.error != null;
    });
    assertThat(r.error).hasMessageContaining("sent nothing for 100 ms");
    assertThat(r.error.status()).isEqualTo(504);
    assertThat(r.completed).isFalse();
  }

  /** Collects a stream's callbacks. */
  private static final class Recording implements Upstream.Observer {
    final List<JsonNode> objects = new CopyOnWriteArrayList<>();
    volatile UpstreamException error;
    volatile boolean completed;

    @Override
    public void onObject(JsonNode object) {
      objects.add(object);
    }

    @Override
    public void onError(UpstreamException e) {
      error = e;
    }

    @Override
    public void onComplete() {
      completed = true;
    }
  }

  /**
   * A timer whose one-shot tasks run only when the test says: each {@link #schedule} is
   * recorded and {@link #runDue} runs those recorded so far (their delays are ignored; the
   * code under test reads the clock itself).
   */
  private static final class ManualTimer extends ScheduledThreadPoolExecutor {
    private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();

    ManualTimer() {
      super(1);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
      ScheduledFuture<?> f = super.schedule(() -> {}, 1, TimeUnit.DAYS);
      tasks.add(() -> {
        if (!f.isCancelled()) {
          task.run();
        }
      });
      return f;
    }

    void runDue() {
      for (int n = tasks.size(); n > 0; n--) {
        Runnable t = tasks.poll();
        if (t != null) {
          t.run();
        }
      }
    }
  }

  /**
   * Answers one POST with a chunked 200 and then writes exactly the HTTP chunks the test
   * gives it, one socket write each, so a line can be cut where the test wants.
   */
  private static final class ScriptedServer implements AutoCloseable {
    private static final byte[] END = new byte[0];
    private final ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    private final BlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
    private final Thread thread = new Thread(this::serve, "scripted-ndjson-server");
    private volatile Socket socket;

    ScriptedServer() throws IOException {
      thread.setDaemon(true);
      thread.start();
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + listener.getLocalPort());
    }

    void chunk(String s) {
      chunk(s.getBytes(StandardCharsets.UTF_8));
    }

    void chunk(byte[] b) {
      chunks.add(b);
    }

    void end() {
      chunks.add(END);
    }

    private void serve() {
      try (Socket s = listener.accept()) {
        socket = s;
        s.setTcpNoDelay(true);
        InputStream in = s.getInputStream();
        readRequest(in);
        OutputStream out = s.getOutputStream();
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        while (true) {
          byte[] c = chunks.take();
          if (c == END) {
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            in.read(); // hold the connection until the client or the test closes it
            return;
          }
          out.write((Integer.toHexString(c.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
          out.write(c);
          out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // closed by the test
      }
    }

    private static void readRequest(InputStream in) throws IOException {
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        int c = in.read();
        if (c < 0) {
          throw new IOException("request cut short");
        }
        head.append((char) c);
      }
      int length = 0;
      for (String line : head.toString().split("\r\n")) {
        if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      in.readNBytes(length);
    }

    @Override
    public void close() throws IOException {
      thread.interrupt();
      listener.close();
      Socket s = socket;
      if (s != null) {
        s.close();
      }
    }
  }
}
