package dev.thunderlink.transport;

/** The states of a path as the workstation's monitor sees it. */
public enum PathState {
  /** Not yet answered a probe. */
  PROBING,
  /** Answering probes; may be the active path. */
  UP,
  /** Lost {@code missedProbesToDown} probes in a row (a pulled cable), or cannot connect. */
  DOWN,
  /** The host answered but refused this daemon (version or pairing); needs a person. */
  REFUSED;

  public String cliName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
