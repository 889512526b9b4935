package dev.thunderlink.transport.internal;

import dev.thunderlink.transport.PeerContext;
import io.grpc.Context;
import java.security.cert.X509Certificate;

/** Bridges the package-private context keys of {@link PeerContext} to the interceptor. */
public final class PeerContextKeys {
  public static final Context.Key<X509Certificate> CERTIFICATE = PeerContext.certificateKey();
  public static final Context.Key<String> FINGERPRINT = PeerContext.fingerprintKey();

  private PeerContextKeys() {}
}
