package dev.thunderlink.transport.internal;

import java.io.IOException;
import java.io.StringWriter;
import java.security.cert.X509Certificate;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/** PEM text of a certificate. */
public final class DeviceIdentityPem {
  private DeviceIdentityPem() {}

  public static String of(X509Certificate cert) throws IOException {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      w.writeObject(cert);
    }
    return sw.toString();
  }
}
