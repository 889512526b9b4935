package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.SslContext;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStoreSpi;
import java.security.Provider;
import java.security.Security;
import java.security.cert.Certificate;
import java.util.Date;
import java.util.Enumeration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS contexts, built from a real identity with whichever provider this JVM has. */
class TlsContextsTest {
  @TempDir Path dir;

  /** How many PKCS12 key stores were asked for while {@link RecordingPkcs12} was installed. */
  static final AtomicInteger PKCS12_OPENED = new AtomicInteger();

  /**
   * Building the contexts puts the key in no PKCS12 store: the JDK's default type protects it
   * with 10,000 rounds of PBKDF2 on the way in and again on the way out, a third of a CLI
   * command's start-up. A provider placed first records any PKCS12 store asked for.
   */
  @Test
  void buildingTheContextsOpensNoPkcs12KeyStore() throws Exception {
    DeviceIdentity id = DeviceIdentity.loadOrCreate(dir.resolve("id"));
    Provider recording = new RecordingPkcs12();
    Security.insertProviderAt(recording, 1);
    try {
      PKCS12_OPENED.set(0);
      SslContext[] built = {
        TlsContexts.grpcClient(id, fp -> true),
        TlsContexts.grpcServer(id),
        TlsContexts.bulkClient(id, fp -> true),
        TlsContexts.bulkServer(id),
      };
      assertThat(built).doesNotContainNull();
      assertThat(PKCS12_OPENED.get()).as("PKCS12 key stores opened for %s contexts", built.length).isZero();
    } finally {
      Security.removeProvider(recording.getName());
    }
  }

  /** Answers KeyStore.getInstance("PKCS12") with a store that only counts. */
  static final class RecordingPkcs12 extends Provider {
    private static final long serialVersionUID = 1L;

    RecordingPkcs12() {
      super("RecordingPkcs12", "1.0", "counts PKCS12 key stores (test)");
      putService(new Service(this, "KeyStore", "PKCS12", CountingStore.class.getName(), null, null));
    }
  }

  /** A key store that records being made and holds nothing. */
  public static final class CountingStore extends KeyStoreSpi {
    public CountingStore() {
      PKCS12_OPENED.incrementAndGet();
    }

    @Override
    public Key engineGetKey(String alias, char[] password) {
      return null;
    }

    @Override
    public Certificate[] engineGetCertificateChain(String alias) {
      return null;
    }

    @Override
    public Certificate engineGetCertificate(String alias) {
      return null;
    }

    @Override
    public Date engineGetCreationDate(String alias) {
      return null;
    }

    @Override
    public void engineSetKeyEntry(String alias, Key key, char[] password, Certificate[] chain) {}

    @Override
    public void engineSetKeyEntry(String alias, byte[] key, Certificate[] chain) {}

    @Override
    public void engineSetCertificateEntry(String alias, Certificate cert) {}

    @Override
    public void engineDeleteEntry(String alias) {}

    @Override
    public Enumeration<String> engineAliases() {
      return java.util.Collections.emptyEnumeration();
    }

    @Override
    public boolean engineContainsAlias(String alias) {
      return false;
    }

    @Override
    public int engineSize() {
      return 0;
    }

    @Override
    public boolean engineIsKeyEntry(String alias) {
      return false;
    }

    @Override
    public boolean engineIsCertificateEntry(String alias) {
      return false;
    }

    @Override
    public String engineGetCertificateAlias(Certificate cert) {
      return null;
    }

    @Override
    public void engineStore(OutputStream stream, char[] password) {}

    @Override
    public void engineLoad(InputStream stream, char[] password) {}
  }
}
