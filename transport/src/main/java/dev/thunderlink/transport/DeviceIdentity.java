package dev.thunderlink.transport;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * This daemon's key pair and self-signed certificate, created on first start and kept in
 * {@code HOME/identity/} (key readable by the owner only). The device id is derived from
 * the certificate, so it cannot be claimed without the key.
 *
 * <p>Immutable and thread-safe.
 */
public final class DeviceIdentity {
  private final PrivateKey privateKey;
  private final X509Certificate certificate;
  private final String fingerprint;
  private final String deviceName;

  private DeviceIdentity(PrivateKey privateKey, X509Certificate certificate, String deviceName) {
    this.privateKey = privateKey;
    this.certificate = certificate;
    this.fingerprint = fingerprint(certificate);
    this.deviceName = deviceName;
  }

  /** Loads the identity from {@code dir}, creating it (and the directory) if absent. */
  public static DeviceIdentity loadOrCreate(Path dir) throws IOException {
    return loadOrCreate(dir, null);
  }

  /**
   * As above, going by {@code deviceName} (null: {@code THUNDERLINK_DEVICE_NAME}, else the host
   * name). The name is not part of the identity: a changed one is used from the next start.
   */
  public static DeviceIdentity loadOrCreate(Path dir, String deviceName) throws IOException {
    Path keyFile = dir.resolve("key.pem");
    Path certFile = dir.resolve("cert.pem");
    String name = deviceName != null ? deviceName : hostName();
    if (Files.exists(keyFile) && Files.exists(certFile)) {
      try {
        return new DeviceIdentity(readKey(keyFile), readCert(certFile), name);
      } catch (IOException | RuntimeException e) {
        throw new IOException(
            "identity in " + dir + " is unreadable (" + e.getMessage()
                + "); move it away to create a new one, then pair again", e);
      }
    }
    Files.createDirectories(dir);
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      KeyPair pair = gen.generateKeyPair();
      X509Certificate cert = selfSign(pair, name);
      writePrivate(keyFile, toPem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null)));
      Files.writeString(certFile, toPem(cert));
      return new DeviceIdentity(pair.getPrivate(), cert, name);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot create a key pair: " + e.getMessage(), e);
    }
  }

  private static String hostName() {
    String env = System.getenv("THUNDERLINK_DEVICE_NAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "thunderlink";
    }
  }

  private static X509Certificate selfSign(KeyPair pair, String name)
      throws OperatorCreationException, GeneralSecurityException {
    Instant now = Instant.now();
    X500Name subject = new X500Name("CN=thunderlink " + name.replaceAll("[,=+<>#;\"\\\\]", "_"));
    JcaX509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            subject,
            new BigInteger(64, new SecureRandom()),
            Date.from(now.minus(Duration.ofDays(1))),
            Date.from(now.plus(Duration.ofDays(365L * 30))),
            subject,
            pair.getPublic());
    X509CertificateHolder holder =
        builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
    return new JcaX509CertificateConverter().getCertificate(holder);
  }

  private static void writePrivate(Path file, String pem) throws IOException {
    Files.deleteIfExists(file);
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
    Files.writeString(file, pem, StandardOpenOption.TRUNCATE_EXISTING);
  }

  static String toPem(Object o) throws IOException {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      w.writeObject(o);
    }
    return sw.toString();
  }

  private static PrivateKey readKey(Path file) throws IOException {
    try (PEMParser p = new PEMParser(Files.newBufferedReader(file, StandardCharsets.US_ASCII))) {
      Object o = p.readObject();
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair kp) {
        return conv.getKeyPair(kp).getPrivate();
      }
      if (o instanceof PrivateKeyInfo info) {
        return conv.getPrivateKey(info);
      }
      throw new IOException("no private key in " + file);
    }
  }

  private static X509Certificate readCert(Path file) throws IOException {
    return parseCertificate(Files.readString(file, StandardCharsets.US_ASCII));
  }

  /** Parses one PEM certificate. */
  public static X509Certificate parseCertificate(String pem) throws IOException {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      Object o = p.readObject();
      if (!(o instanceof X509CertificateHolder holder)) {
        throw new IOException("not a PEM certificate");
      }
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (GeneralSecurityException e) {
      throw new IOException("bad certificate: " + e.getMessage(), e);
    }
  }

  /** SHA-256 of the DER certificate, lower-case hex. */
  public static String fingerprint(X509Certificate cert) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The short device id for a fingerprint: its first 16 hex digits in groups of four. */
  public static String deviceIdOf(String fingerprint) {
    String f = fingerprint.toUpperCase(java.util.Locale.ROOT);
    return f.substring(0, 4) + "-" + f.substring(4, 8) + "-" + f.substring(8, 12) + "-" + f.substring(12, 16);
  }

  public PrivateKey privateKey() {
    return privateKey;
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public String certificatePem() {
    try {
      return toPem(certificate);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public byte[] certificateDer() {
    try {
      return certificate.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  public String fingerprint() {
    return fingerprint;
  }

  public String deviceId() {
    return deviceIdOf(fingerprint);
  }

  public String deviceName() {
    return deviceName;
  }
}
