package dev.thunderlink.daemon.config;

import java.util.List;

/**
 * The configuration cannot be used. Each problem is one line of the form
 * {@code key: value (expected: ...) [where]}; all problems are reported at once so a user
 * fixes the file in one pass. An {@link IllegalArgumentException}, so the CLI exits with 2.
 */
public final class ConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final List<String> problems;
  private final List<String> warnings;

  ConfigException(List<String> problems, List<String> warnings) {
    super(String.join("\n", problems));
    this.problems = List.copyOf(problems);
    this.warnings = List.copyOf(warnings);
  }

  /** One line per bad value. */
  public List<String> problems() {
    return problems;
  }

  /** Warnings found before the problems stopped the load (unknown keys). */
  public List<String> warnings() {
    return warnings;
  }
}
