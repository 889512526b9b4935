package dev.thunderlink.transport;

import dev.thunderlink.proto.link.ProtocolVersion;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The versions two daemons compare in the handshake. Daemons of different releases work
 * together while their protocol versions are equal; otherwise both refuse, naming both.
 */
public final class LinkVersion {
  /** The wire protocol version of this build ({@code thunderlink.protocolVersion} overrides it, for tests). */
  public static final int PROTOCOL =
      Integer.getInteger("thunderlink.protocolVersion", ProtocolVersion.PROTOCOL_VERSION_CURRENT_VALUE);

  /** This build's release version. */
  public static final String DAEMON = readVersion();

  private LinkVersion() {}

  private static String readVersion() {
    try (InputStream in = LinkVersion.class.getResourceAsStream("version.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "dev");
    } catch (IOException e) {
      return "dev";
    }
  }

  /** Null when compatible, else the one-line reason naming both sides. */
  public static String incompatibility(int peerProtocol, String peerVersion, String peerRole) {
    if (peerProtocol == PROTOCOL) {
      return null;
    }
    return "incompatible protocol: this daemon speaks protocol " + PROTOCOL + " (thunderlink " + DAEMON
        + "), the " + peerRole + " speaks protocol " + peerProtocol + " (thunderlink " + peerVersion
        + "); upgrade the older one";
  }
}
