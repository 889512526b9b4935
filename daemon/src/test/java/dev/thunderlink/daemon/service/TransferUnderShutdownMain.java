package dev.thunderlink.daemon.service;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Child JVM for the SIGTERM test: streams an endless "file" over a real loopback TCP
 * connection, tracked as in-flight work. On SIGTERM the coordinator stops accepting, gives the
 * transfer the grace to drain (it cannot: it is endless), cuts it, writes the checkpoint
 * (bytes received, what a restart resumes from), prints the report and exits.
 * Args: checkpoint file, grace in ms.
 */
public final class TransferUnderShutdownMain {
  private TransferUnderShutdownMain() {}

  public static void main(String[] args) throws Exception {
    Path checkpoint = Path.of(args[0]);
    ShutdownCoordinator coordinator = new ShutdownCoordinator(Duration.ofMillis(Long.parseLong(args[1])));
    InFlightWork transfers = new InFlightWork();
    AtomicLong received = new AtomicLong();
    ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    Socket sender = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
    Socket receiver = server.accept();
    InFlightWork.Ticket ticket =
        transfers.begin(
            "transfer big.bin",
            () -> {
              try {
                sender.close();
                receiver.close();
                Files.writeString(checkpoint, Long.toString(received.get()));
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    CompletableFuture.runAsync(() -> {
      byte[] chunk = new byte[64 * 1024];
      try (OutputStream o = sender.getOutputStream()) {
        while (true) {
          o.write(chunk);
        }
      } catch (IOException e) {
        // cut by shutdown
      }
    });
    Thread rx = new Thread(() -> {
      byte[] buf = new byte[64 * 1024];
      try (InputStream in = receiver.getInputStream()) {
        for (int n; (n = in.read(buf)) > 0; ) {
          if (received.addAndGet(n) > (1 << 20)) {
            ticket.progress(received.get() / (1 << 20) + " MiB received (resumes on restart)");
          }
        }
      } catch (IOException e) {
        // cut by shutdown
      }
    }, "receiver");
    rx.start();
    coordinator.register(transfers.participant("bulk", server::close));
    coordinator.installShutdownHook(r -> {
      System.out.println("REPORT " + r.summary());
      System.out.flush();
    });
    while (received.get() < (8 << 20)) {
      Thread.onSpinWait();
    }
    System.out.println("TRANSFERRING");
    System.out.flush();
    rx.join();
    Thread.currentThread().join();
  }
}
