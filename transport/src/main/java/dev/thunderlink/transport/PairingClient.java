package dev.thunderlink.transport;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.link.KeyConfirmation;
import dev.thunderlink.proto.link.PairHello;
import dev.thunderlink.proto.link.PairMessage;
import dev.thunderlink.proto.link.PairingGrpc;
import dev.thunderlink.proto.link.Role;
import dev.thunderlink.transport.internal.DeviceIdentityPem;
import dev.thunderlink.transport.internal.Jpake;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.bouncycastle.crypto.CryptoException;

/**
 * The workstation's side of pairing: connects to the host (its certificate not yet
 * trusted), runs J-PAKE over the one-time code, checks the host's key confirmation, and
 * pins the host's certificate. Blocking; call from a CLI thread.
 */
public final class PairingClient {
  private PairingClient() {}

  /** Thrown with a one-line reason a person understands. */
  public static final class PairingException extends Exception {
    public PairingException(String message) {
      super(message);
    }
  }

  public static PairedPeer pair(
      InetSocketAddress host,
      String code,
      DeviceIdentity identity,
      PeerStore peers,
      TransportFactory transport,
      EventLoopGroup group,
      long timeoutMillis)
      throws PairingException, IOException, InterruptedException {
    if (!PairingCodes.wellFormed(code)) {
      throw new PairingException(PairingCodes.malformed(code));
    }
    String normalized = PairingCodes.normalize(code);
    AtomicReference<X509Certificate> hostCert = new AtomicReference<>();
    ManagedChannel channel =
        LinkChannels.newChannel(
            host,
            TlsContexts.grpcClient(identity, fp -> true, hostCert::set),
            transport,
            group,
            TuningProfile.defaults(PathKind.infer("", host.getAddress())));
    try {
      BlockingQueue<Object> in = new LinkedBlockingQueue<>();
      StreamObserver<PairMessage> out =
          PairingGrpc.newStub(channel)
              .withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS)
              .pair(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(PairMessage m) {
                      in.add(m);
                    }

                    @Override
                    public void onError(Throwable t) {
                      in.add(t);
                    }

                    @Override
                    public void onCompleted() {
                      in.add("completed");
                    }
                  });
      Jpake jpake = new Jpake("workstation", normalized);
      out.onNext(
          PairMessage.newBuilder()
              .setHello(
                  PairHello.newBuilder()
                      .setProtocolVersion(LinkVersion.PROTOCOL)
                      .setDaemonVersion(LinkVersion.DAEMON)
                      .setDeviceId(identity.deviceId())
                      .setDeviceName(identity.deviceName())
                      .setRole(Role.ROLE_WORKSTATION))
              .build());
      out.onNext(PairMessage.newBuilder().setRound1(jpake.round1()).build());
      PairMessage hello = next(in, timeoutMillis, host);
      if (!hello.hasHello()) {
        throw new PairingException("host sent an unexpected pairing message");
      }
      String why =
          LinkVersion.incompatibility(hello.getHello().getProtocolVersion(), hello.getHello().getDaemonVersion(), "host");
      if (why != null) {
        throw new PairingException(why);
      }
      jpake.acceptRound1(expect(next(in, timeoutMillis, host), PairMessage.StepCase.ROUND1).getRound1());
      out.onNext(PairMessage.newBuilder().setRound2(jpake.round2()).build());
      jpake.acceptRound2(expect(next(in, timeoutMillis, host), PairMessage.StepCase.ROUND2).getRound2());
      X509Certificate cert = hostCert.get();
      if (cert == null) {
        throw new PairingException("host presented no certificate");
      }
      String hostFp = DeviceIdentity.fingerprint(cert);
      out.onNext(
          PairMessage.newBuilder()
              .setConfirmation(
                  KeyConfirmation.newBuilder()
                      .setMac(ByteString.copyFrom(jpake.confirmation("workstation", hostFp, identity.fingerprint()))))
              .build());
      PairMessage confirm = expect(next(in, timeoutMillis, host), PairMessage.StepCase.CONFIRMATION);
      if (!Jpake.macEquals(
          jpake.confirmation("host", hostFp, identity.fingerprint()), confirm.getConfirmation().getMac().toByteArray())) {
        throw new PairingException("the host could not prove it knows the code: not pairing (a man in the middle?)");
      }
      PairMessage result = expect(next(in, timeoutMillis, host), PairMessage.StepCase.RESULT);
      out.onCompleted();
      PairedPeer peer =
          new PairedPeer(
              DeviceIdentity.deviceIdOf(hostFp),
              result.getResult().getDeviceName(),
              hostFp,
              DeviceIdentityPem.of(cert),
              "host",
              System.currentTimeMillis(),
              List.of(host.getAddress().getHostAddress() + ":" + host.getPort()));
      peers.put(peer);
      return peer;
    } catch (CryptoException e) {
      throw new PairingException("pairing failed: " + e.getMessage());
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static PairMessage expect(PairMessage m, PairMessage.StepCase step) throws PairingException {
    if (m.getStepCase() != step) {
      throw new PairingException("host sent an unexpected pairing message (" + m.getStepCase() + ")");
    }
    return m;
  }

  private static PairMessage next(BlockingQueue<Object> in, long timeoutMillis, InetSocketAddress host)
      throws PairingException, InterruptedException {
    Object o = in.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    if (o == null) {
      throw new PairingException("the host at " + host + " did not answer in time");
    }
    if (o instanceof Throwable t) {
      Status s = Status.fromThrowable(t);
      if (s.getCode() == Status.Code.UNAVAILABLE) {
        throw new PairingException(
            "cannot reach a thunderlink host at " + host.getAddress().getHostAddress() + ":" + host.getPort()
                + " (" + describe(s) + "); is `thunderlink serve` running there?");
      }
      throw new PairingException("pairing failed: " + describe(s));
    }
    if (o instanceof PairMessage m) {
      if (m.hasResult() && !m.getResult().getOk()) {
        throw new PairingException(m.getResult().getMessage());
      }
      return m;
    }
    throw new PairingException("the host ended pairing early");
  }

  private static String describe(Status s) {
    Throwable root = s.getCause();
    while (root != null && root.getCause() != null) {
      root = root.getCause();
    }
    if (root != null && root.getMessage() != null) {
      return root.getMessage();
    }
    return s.getDescription() != null ? s.getDescription() : s.getCode().toString();
  }

}
