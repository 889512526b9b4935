package dev.thunderlink.transport.bulk;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.bulk.BulkControlGrpc;
import dev.thunderlink.proto.bulk.Digest;
import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.Hello;
import dev.thunderlink.proto.bulk.OpenSessionRequest;
import dev.thunderlink.proto.bulk.OpenSessionResponse;
import dev.thunderlink.proto.bulk.VerifyMessage;
import dev.thunderlink.transport.BulkAcceptor;
import dev.thunderlink.transport.bulk.internal.Frame;
import io.grpc.stub.StreamObserver;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A hand-written bulk client on a plain socket, for feeding the host bad input: it opens
 * a real session over gRPC, then writes whatever frames a test asks for.
 */
final class RawBulkPeer implements AutoCloseable {
  final Socket socket;
  final DataOutputStream out;
  final DataInputStream in;
  final OpenSessionResponse session;
  final BlockingQueue<VerifyMessage> verdicts = new LinkedBlockingQueue<>();
  private final StreamObserver<VerifyMessage> verify;

  RawBulkPeer(BulkFixture f) throws IOException {
    session = BulkControlGrpc.newBlockingStub(f.channel).openSession(OpenSessionRequest.newBuilder().setPlaintext(true).build());
    verify =
        BulkControlGrpc.newStub(f.channel)
            .verify(
                new StreamObserver<>() {
                  @Override
                  public void onNext(VerifyMessage m) {
                    dev.thunderlink.transport.bulk.internal.VerifyBatch.each(m, verdicts::add);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    verify.onNext(VerifyMessage.newBuilder().setSessionId(session.getSessionId()).build());
    socket = new Socket(f.address.getAddress(), f.address.getPort());
    socket.setSoTimeout(10_000);
    out = new DataOutputStream(socket.getOutputStream());
    in = new DataInputStream(socket.getInputStream());
    out.write(BulkAcceptor.PREFACE_PLAIN.getBytes(StandardCharsets.US_ASCII));
  }

  /** HELLO with the session's ticket; returns the answer frame's type. */
  byte hello() throws IOException {
    return hello(session.getTicket());
  }

  byte hello(ByteString ticket) throws IOException {
    frame(Frame.HELLO, 0, Hello.newBuilder().setSessionId(session.getSessionId()).setTicket(ticket).build().toByteArray());
    return readFrame().type;
  }

  void frame(byte type, int stream, byte[] payload) throws IOException {
    out.writeInt(payload.length);
    out.writeByte(type);
    out.writeInt(stream);
    out.write(payload);
    out.flush();
  }

  void begin(int stream, String path, long size) throws IOException {
    begin(stream, path, size, dev.thunderlink.proto.bulk.DigestAlgorithm.DIGEST_ALGORITHM_UNSPECIFIED);
  }

  void begin(int stream, String path, long size, dev.thunderlink.proto.bulk.DigestAlgorithm digest) throws IOException {
    frame(
        Frame.BEGIN,
        stream,
        FileHeader.newBuilder()
            .setPath(path)
            .setSize(size)
            .setMtimeMillis(1_700_000_000_000L)
            .setEncoding(dev.thunderlink.proto.bulk.Encoding.ENCODING_RAW)
            .setMode(TransferMode.HEAP.wire())
            .setDigest(digest)
            .build()
            .toByteArray());
  }

  void digest(int stream, byte[] sha256, long size) {
    verify.onNext(
        VerifyMessage.newBuilder()
            .setStreamId(stream)
            .setDigest(Digest.newBuilder().setSha256(ByteString.copyFrom(sha256)).setSize(size))
            .build());
  }

  void digestXxh3(int stream, byte[] xxh3, long size) {
    verify.onNext(
        VerifyMessage.newBuilder()
            .setStreamId(stream)
            .setDigest(Digest.newBuilder().setXxh3128(ByteString.copyFrom(xxh3)).setSize(size))
            .build());
  }

  VerifyMessage nextVerdict() throws InterruptedException {
    VerifyMessage m = verdicts.poll(10, TimeUnit.SECONDS);
    if (m == null) {
      throw new AssertionError("no verdict within 10 s");
    }
    return m;
  }

  /** A frame the host sent. */
  record Received(byte type, int stream, String text) {}

  Received readFrame() throws IOException {
    int len = in.readInt();
    byte type = in.readByte();
    int stream = in.readInt();
    byte[] b = new byte[len];
    in.readFully(b);
    return new Received(type, stream, new String(b, StandardCharsets.UTF_8));
  }

  /**
   * Hangs up as a client does once it has read an ERROR (a half-close: it sends nothing more),
   * then true when the host closes its side too within the socket timeout.
   */
  boolean hangUpAndSeeTheHostClose() throws IOException {
    socket.shutdownOutput();
    return closedByHost();
  }

  /**
   * True when the host closed the connection (EOF or reset) within the socket timeout. The host
   * waits a few seconds for a peer that does not hang up after an ERROR.
   */
  boolean closedByHost() {
    try {
      while (true) {
        if (in.read() < 0) {
          return true;
        }
      }
    } catch (EOFException e) {
      return true;
    } catch (IOException e) {
      return !e.getMessage().contains("timed out");
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
    try {
      verify.onCompleted();
    } catch (RuntimeException e) {
      // already closed by the host
    }
  }
}
