package dev.thunderlink.transport;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.SimpleTrustManagerFactory;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.function.Predicate;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;

/**
 * Builds the TLS 1.3 contexts of the link: OpenSSL (BoringSSL through netty-tcnative) where
 * it loads, the JDK's provider otherwise. Trust is never the PKI's: a peer is trusted when
 * the SHA-256 fingerprint of its certificate is pinned.
 */
public final class TlsContexts {
  private TlsContexts() {}

  /**
   * The in-memory key store Netty puts this daemon's key in to build each context. Not the
   * JDK's default, PKCS12: it protects the key with 10,000 rounds of PBKDF2 when it is stored
   * and again when it is read back, which in a fresh JVM was a third of the profiler's samples
   * of a `cp` of one byte (27 of 80; two contexts per command). JKS's protection is one cheap pass; the
   * store never leaves memory, so its protection does not matter. The identity on disk stays
   * the PEM files of {@link DeviceIdentity}.
   */
  static final String KEY_STORE_TYPE = "JKS";

  /** The provider this JVM uses, as named by {@code status}. */
  public static SslProvider provider() {
    return OpenSsl.isAvailable() && SslProvider.isAlpnSupported(SslProvider.OPENSSL)
        ? SslProvider.OPENSSL
        : SslProvider.JDK;
  }

  public static String providerDescription() {
    if (provider() == SslProvider.OPENSSL) {
      return "openssl (" + OpenSsl.versionString() + " via netty-tcnative)";
    }
    return "jdk (" + System.getProperty("java.vendor") + " " + Runtime.version() + ")";
  }

  /**
   * The host's gRPC server context: presents this daemon's certificate and requires one from
   * the client, whatever it is — an unpaired client must still reach the Pairing service.
   * Authorization (is the client pinned?) happens per call in the link server.
   */
  public static SslContext grpcServer(DeviceIdentity identity) throws SSLException {
    SslContextBuilder b =
        SslContextBuilder.forServer(identity.privateKey(), identity.certificate())
            .clientAuth(ClientAuth.REQUIRE)
            .trustManager(new PredicateTrustManagerFactory(fp -> true, "client"))
            .protocols("TLSv1.3")
            .keyStoreType(KEY_STORE_TYPE);
    return GrpcSslContexts.configure(b, provider()).build();
  }

  /**
   * A client context that accepts only servers whose fingerprint {@code accept} allows
   * (pinned peers), presenting this daemon's certificate.
   */
  public static SslContext grpcClient(DeviceIdentity identity, Predicate<String> accept)
      throws SSLException {
    return grpcClient(identity, accept, c -> {});
  }

  /** As above, also handing the server's certificate to {@code seen} (pairing pins it). */
  public static SslContext grpcClient(
      DeviceIdentity identity, Predicate<String> accept, java.util.function.Consumer<X509Certificate> seen)
      throws SSLException {
    SslContextBuilder b =
        SslContextBuilder.forClient()
            .keyManager(identity.privateKey(), identity.certificate())
            .trustManager(new PredicateTrustManagerFactory(accept, "server", seen))
            .endpointIdentificationAlgorithm(null)
            .protocols("TLSv1.3")
            .keyStoreType(KEY_STORE_TYPE);
    return GrpcSslContexts.configure(b, provider()).build();
  }

  /** Raw (non-gRPC) TLS for the bulk plane, same trust rules, no ALPN. */
  public static SslContext bulkServer(DeviceIdentity identity) throws SSLException {
    return SslContextBuilder.forServer(identity.privateKey(), identity.certificate())
        .clientAuth(ClientAuth.REQUIRE)
        .trustManager(new PredicateTrustManagerFactory(fp -> true, "client"))
        .protocols("TLSv1.3")
        .keyStoreType(KEY_STORE_TYPE)
        .sslProvider(provider())
        .build();
  }

  public static SslContext bulkClient(DeviceIdentity identity, Predicate<String> accept)
      throws SSLException {
    return SslContextBuilder.forClient()
        .keyManager(identity.privateKey(), identity.certificate())
        .trustManager(new PredicateTrustManagerFactory(accept, "server"))
        .endpointIdentificationAlgorithm(null)
        .protocols("TLSv1.3")
        .keyStoreType(KEY_STORE_TYPE)
        .sslProvider(provider())
        .build();
  }

  /**
   * The fingerprint of the certificate the peer presented on {@code ssl}'s finished handshake
   * (null: none). Check it after every handshake: a resumed TLS session skips the trust
   * manager, so a peer unpaired since its session was cached would otherwise pass.
   */
  public static String peerFingerprint(io.netty.handler.ssl.SslHandler ssl) {
    try {
      java.security.cert.Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? DeviceIdentity.fingerprint(x) : null;
    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
      return null;
    }
  }

  /** Trusts a certificate when the predicate accepts its fingerprint. */
  static final class PredicateTrustManagerFactory extends SimpleTrustManagerFactory {
    private final javax.net.ssl.X509TrustManager manager;

    PredicateTrustManagerFactory(Predicate<String> accept, String side) {
      this(accept, side, c -> {});
    }

    PredicateTrustManagerFactory(
        Predicate<String> accept, String side, java.util.function.Consumer<X509Certificate> seen) {
      this.manager = new PinnedTrustManager(accept, side, seen);
    }

    @Override
    protected void engineInit(KeyStore keyStore) {}

    @Override
    protected void engineInit(ManagerFactoryParameters params) {}

    @Override
    protected TrustManager[] engineGetTrustManagers() {
      return new TrustManager[] {manager};
    }
  }

  /**
   * Extended, so that neither the JDK nor Netty wraps it in a manager that also checks host
   * names: a pinned certificate is the whole identity, whatever address it answered on.
   */
  private static final class PinnedTrustManager extends javax.net.ssl.X509ExtendedTrustManager {
    private final Predicate<String> accept;
    private final String side;
    private final java.util.function.Consumer<X509Certificate> seen;

    PinnedTrustManager(
        Predicate<String> accept, String side, java.util.function.Consumer<X509Certificate> seen) {
      this.accept = accept;
      this.side = side;
      this.seen = seen;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the " + side + " presented no certificate");
      }
      String fp = DeviceIdentity.fingerprint(chain[0]);
      seen.accept(chain[0]);
      if (!accept.test(fp)) {
        throw new CertificateException(
            "the " + side + " certificate " + DeviceIdentity.deviceIdOf(fp)
                + " is not a paired peer; run `thunderlink pair` to pair it");
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
