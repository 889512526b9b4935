package dev.thunderlink.transport;

import java.util.List;

/**
 * A peer whose certificate this daemon has pinned.
 *
 * @param deviceId short id derived from the certificate
 * @param deviceName the name the peer gave when pairing
 * @param fingerprint SHA-256 of the peer's certificate, hex
 * @param certificatePem the pinned certificate
 * @param role "host" or "workstation"
 * @param pairedAtMillis when the pairing completed
 * @param addresses HOST:PORT strings the peer was reached at (workstation side)
 */
public record PairedPeer(
    String deviceId,
    String deviceName,
    String fingerprint,
    String certificatePem,
    String role,
    long pairedAtMillis,
    List<String> addresses) {
  public PairedPeer {
    addresses = addresses == null ? List.of() : List.copyOf(addresses);
  }
}
