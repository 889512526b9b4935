package dev.thunderlink.daemon.config;

/** Where an effective setting came from, in rising precedence: a flag beats the environment beats the file beats the default. */
public enum ConfigSource {
  DEFAULT,
  FILE,
  ENVIRONMENT,
  FLAG;

  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
