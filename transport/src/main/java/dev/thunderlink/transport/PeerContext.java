package dev.thunderlink.transport;

import io.grpc.Context;
import java.security.cert.X509Certificate;

/**
 * The authenticated peer of the current gRPC call on the link server, for service
 * implementations that need to know who is calling (set by the link server before any
 * service code runs; absent on the local control endpoint).
 */
public final class PeerContext {
  static final Context.Key<X509Certificate> CERTIFICATE = Context.key("thunderlink-peer-cert");
  static final Context.Key<String> FINGERPRINT = Context.key("thunderlink-peer-fingerprint");

  private PeerContext() {}

  /** For the link server's interceptor only. */
  public static Context.Key<X509Certificate> certificateKey() {
    return CERTIFICATE;
  }

  /** For the link server's interceptor only. */
  public static Context.Key<String> fingerprintKey() {
    return FINGERPRINT;
  }

  /** The calling peer's certificate fingerprint, or null outside a link call. */
  public static String fingerprint() {
    return FINGERPRINT.get();
  }

  /** The calling peer's short device id, or null outside a link call. */
  public static String deviceId() {
    String fp = FINGERPRINT.get();
    return fp == null ? null : DeviceIdentity.deviceIdOf(fp);
  }

  public static X509Certificate certificate() {
    return CERTIFICATE.get();
  }
}
