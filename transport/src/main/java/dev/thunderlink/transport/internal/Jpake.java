package dev.thunderlink.transport.internal;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.link.JpakeRound1;
import dev.thunderlink.proto.link.JpakeRound2;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.CryptoException;
import org.bouncycastle.crypto.agreement.jpake.JPAKEParticipant;
import org.bouncycastle.crypto.agreement.jpake.JPAKEPrimeOrderGroups;
import org.bouncycastle.crypto.agreement.jpake.JPAKERound1Payload;
import org.bouncycastle.crypto.agreement.jpake.JPAKERound2Payload;
import org.bouncycastle.crypto.digests.SHA256Digest;

/**
 * One side of the pairing J-PAKE exchange (Bouncy Castle's implementation, NIST 3072-bit
 * group) plus the key confirmation that binds both TLS certificates: each side MACs the
 * fingerprints it saw, so a man in the middle, who must present its own certificates,
 * cannot complete pairing even if it relays every message.
 *
 * <p>Not thread-safe: one instance per pairing, used by one thread at a time.
 */
public final class Jpake {
  private final JPAKEParticipant participant;
  private byte[] macKey;

  public Jpake(String participantId, String code) {
    this.participant =
        new JPAKEParticipant(
            participantId,
            code.toCharArray(),
            JPAKEPrimeOrderGroups.NIST_3072,
            new SHA256Digest(),
            new SecureRandom());
  }

  public JpakeRound1 round1() {
    JPAKERound1Payload p = participant.createRound1PayloadToSend();
    return JpakeRound1.newBuilder()
        .setParticipantId(p.getParticipantId())
        .setGx1(big(p.getGx1()))
        .setGx2(big(p.getGx2()))
        .addAllKnowledgeProofX1(bigs(p.getKnowledgeProofForX1()))
        .addAllKnowledgeProofX2(bigs(p.getKnowledgeProofForX2()))
        .build();
  }

  public void acceptRound1(JpakeRound1 r) throws CryptoException {
    participant.validateRound1PayloadReceived(
        new JPAKERound1Payload(
            r.getParticipantId(),
            new BigInteger(r.getGx1().toByteArray()),
            new BigInteger(r.getGx2().toByteArray()),
            unbigs(r.getKnowledgeProofX1List()),
            unbigs(r.getKnowledgeProofX2List())));
  }

  public JpakeRound2 round2() {
    JPAKERound2Payload p = participant.createRound2PayloadToSend();
    return JpakeRound2.newBuilder()
        .setParticipantId(p.getParticipantId())
        .setA(big(p.getA()))
        .addAllKnowledgeProofX2S(bigs(p.getKnowledgeProofForX2s()))
        .build();
  }

  public void acceptRound2(JpakeRound2 r) throws CryptoException {
    participant.validateRound2PayloadReceived(
        new JPAKERound2Payload(
            r.getParticipantId(), new BigInteger(r.getA().toByteArray()), unbigs(r.getKnowledgeProofX2SList())));
    BigInteger keying = participant.calculateKeyingMaterial();
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update("thunderlink-pair-v1".getBytes(StandardCharsets.US_ASCII));
      sha.update(keying.toByteArray());
      macKey = sha.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The confirmation MAC of {@code side} ("host" or "workstation") over both fingerprints. */
  public byte[] confirmation(String side, String hostFingerprint, String workstationFingerprint) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(macKey, "HmacSHA256"));
      mac.update((side + "|" + hostFingerprint + "|" + workstationFingerprint).getBytes(StandardCharsets.US_ASCII));
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static boolean macEquals(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }

  private static ByteString big(BigInteger b) {
    return ByteString.copyFrom(b.toByteArray());
  }

  private static List<ByteString> bigs(BigInteger[] bs) {
    return java.util.Arrays.stream(bs).map(Jpake::big).toList();
  }

  private static BigInteger[] unbigs(List<ByteString> bs) {
    return bs.stream().map(b -> new BigInteger(b.toByteArray())).toArray(BigInteger[]::new);
  }
}
