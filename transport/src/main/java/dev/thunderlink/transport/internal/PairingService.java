package dev.thunderlink.transport.internal;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.link.KeyConfirmation;
import dev.thunderlink.proto.link.PairHello;
import dev.thunderlink.proto.link.PairMessage;
import dev.thunderlink.proto.link.PairResult;
import dev.thunderlink.proto.link.PairingGrpc;
import dev.thunderlink.proto.link.Role;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkVersion;
import dev.thunderlink.transport.PairedPeer;
import dev.thunderlink.transport.PairingCodes;
import dev.thunderlink.transport.PeerContext;
import dev.thunderlink.transport.PeerStore;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.crypto.CryptoException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's side of pairing: hello, J-PAKE round 1, round 2, key confirmation, result.
 * Any step out of order, any bad proof or a wrong code ends the exchange with a
 * {@link PairResult} that says why; a wrong code counts against the code's attempts.
 *
 * <p>Each call's observer is driven by gRPC, one message at a time (serialized).
 */
public final class PairingService extends PairingGrpc.PairingImplBase {
  private static final Logger log = LoggerFactory.getLogger(PairingService.class);

  private final DeviceIdentity identity;
  private final PairingCodes codes;
  private final PeerStore peers;

  public PairingService(DeviceIdentity identity, PairingCodes codes, PeerStore peers) {
    this.identity = identity;
    this.codes = codes;
    this.peers = peers;
  }

  @Override
  public StreamObserver<PairMessage> pair(StreamObserver<PairMessage> out) {
    String peerFp = PeerContext.fingerprint();
    String peerCertPem = pem();
    return new StreamObserver<>() {
      private int step;
      private PairHello hello;
      private Jpake jpake;
      private boolean done;

      @Override
      public void onNext(PairMessage m) {
        if (done) {
          return;
        }
        try {
          switch (step) {
            case 0 -> {
              if (!m.hasHello()) {
                fail("pairing out of order: expected hello");
                return;
              }
              hello = m.getHello();
              String why = LinkVersion.incompatibility(hello.getProtocolVersion(), hello.getDaemonVersion(), "workstation");
              if (why != null) {
                fail(why);
                return;
              }
              StringBuilder whyNot = new StringBuilder();
              Optional<String> code = codes.active(whyNot);
              if (code.isEmpty()) {
                fail(whyNot.toString());
                return;
              }
              jpake = new Jpake("host", code.get());
              step = 1;
            }
            case 1 -> {
              if (!m.hasRound1()) {
                fail("pairing out of order: expected round 1");
                return;
              }
              // Bouncy Castle's participant must create its own round 1 before validating the peer's.
              dev.thunderlink.proto.link.JpakeRound1 mine = jpake.round1();
              jpake.acceptRound1(m.getRound1());
              out.onNext(
                  PairMessage.newBuilder()
                      .setHello(
                          PairHello.newBuilder()
                              .setProtocolVersion(LinkVersion.PROTOCOL)
                              .setDaemonVersion(LinkVersion.DAEMON)
                              .setDeviceId(identity.deviceId())
                              .setDeviceName(identity.deviceName())
                              .setRole(Role.ROLE_HOST))
                      .build());
              out.onNext(PairMessage.newBuilder().setRound1(mine).build());
              step = 2;
            }
            case 2 -> {
              if (!m.hasRound2()) {
                fail("pairing out of order: expected round 2");
                return;
              }
              dev.thunderlink.proto.link.JpakeRound2 mine2 = jpake.round2();
              jpake.acceptRound2(m.getRound2());
              out.onNext(PairMessage.newBuilder().setRound2(mine2).build());
              step = 3;
            }
            case 3 -> {
              if (!m.hasConfirmation()) {
                fail("pairing out of order: expected key confirmation");
                return;
              }
              byte[] expected = jpake.confirmation("workstation", identity.fingerprint(), peerFp);
              if (!Jpake.macEquals(expected, m.getConfirmation().getMac().toByteArray())) {
                codes.failed();
                fail("wrong pairing code");
                return;
              }
              codes.consumed();
              peers.put(
                  new PairedPeer(
                      DeviceIdentity.deviceIdOf(peerFp),
                      hello.getDeviceName(),
                      peerFp,
                      peerCertPem,
                      "workstation",
                      System.currentTimeMillis(),
                      List.of()));
              log.info("paired with workstation {} ({})", hello.getDeviceName(), DeviceIdentity.deviceIdOf(peerFp));
              out.onNext(
                  PairMessage.newBuilder()
                      .setConfirmation(
                          KeyConfirmation.newBuilder()
                              .setMac(ByteString.copyFrom(jpake.confirmation("host", identity.fingerprint(), peerFp))))
                      .build());
              out.onNext(
                  PairMessage.newBuilder()
                      .setResult(
                          PairResult.newBuilder()
                              .setOk(true)
                              .setMessage("paired")
                              .setDeviceId(identity.deviceId())
                              .setDeviceName(identity.deviceName()))
                      .build());
              done = true;
              out.onCompleted();
            }
            default -> fail("pairing already finished");
          }
        } catch (CryptoException | RuntimeException e) {
          if (step >= 1) {
            codes.failed();
          }
          fail("pairing failed: " + e.getMessage());
        } catch (IOException e) {
          fail("pairing failed on the host: " + e.getMessage());
        }
      }

      private void fail(String why) {
        log.warn("pairing attempt from {} refused: {}", peerFp == null ? "?" : DeviceIdentity.deviceIdOf(peerFp), why);
        done = true;
        out.onNext(PairMessage.newBuilder().setResult(PairResult.newBuilder().setOk(false).setMessage(why)).build());
        out.onCompleted();
      }

      @Override
      public void onError(Throwable t) {
        done = true;
      }

      @Override
      public void onCompleted() {
        if (!done) {
          done = true;
          out.onCompleted();
        }
      }
    };
  }

  private static String pem() {
    try {
      return DeviceIdentityPem.of(PeerContext.certificate());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
