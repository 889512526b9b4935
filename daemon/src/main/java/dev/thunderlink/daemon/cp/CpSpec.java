package dev.thunderlink.daemon.cp;

import java.util.ArrayList;
import java.util.List;

/**
 * A parsed {@code thunderlink cp} command line: {@code LOCAL... host:PATH} (push) or
 * {@code host:PATH LOCAL} (pull). Immutable; validated on construction.
 *
 * @param push true for LOCAL → host
 * @param sources local paths (push) or the one host path (pull)
 * @param destination the host path (push) or the local path (pull)
 */
public record CpSpec(boolean push, List<String> sources, String destination) {
  /** The prefix that marks a host path. */
  public static final String HOST_PREFIX = "host:";

  public CpSpec {
    sources = List.copyOf(sources);
  }

  /**
   * Parses the operands.
   *
   * @throws IllegalArgumentException with a one-line explanation
   */
  public static CpSpec parse(List<String> operands) {
    if (operands == null || operands.size() < 2) {
      throw new IllegalArgumentException(
          "cp: " + (operands == null ? 0 : operands.size()) + " operand(s) (expected: LOCAL... host:PATH or host:PATH LOCAL)");
    }
    String last = operands.get(operands.size() - 1);
    List<String> first = operands.subList(0, operands.size() - 1);
    boolean lastRemote = isRemote(last);
    long remoteSources = first.stream().filter(CpSpec::isRemote).count();
    if (lastRemote && remoteSources == 0) {
      String path = strip(last);
      if (path.isEmpty()) {
        throw new IllegalArgumentException("cp: " + last + " (expected: host:PATH with a path)");
      }
      for (String s : first) {
        if (s.isEmpty()) {
          throw new IllegalArgumentException("cp: an empty local path (expected: a file or directory)");
        }
      }
      return new CpSpec(true, new ArrayList<>(first), path);
    }
    if (!lastRemote && remoteSources == first.size()) {
      if (first.size() != 1) {
        throw new IllegalArgumentException(
            "cp: " + first.size() + " host sources (expected: one host:PATH when copying from the host)");
      }
      String path = strip(first.get(0));
      if (path.isEmpty()) {
        throw new IllegalArgumentException("cp: " + first.get(0) + " (expected: host:PATH with a path)");
      }
      return new CpSpec(false, List.of(path), last);
    }
    if (lastRemote) {
      throw new IllegalArgumentException("cp: host-to-host copies are not supported (expected: exactly one side on the host)");
    }
    throw new IllegalArgumentException(
        "cp: no operand names the host (expected: LOCAL... host:PATH or host:PATH LOCAL)");
  }

  static boolean isRemote(String s) {
    return s.startsWith(HOST_PREFIX);
  }

  private static String strip(String s) {
    return s.substring(HOST_PREFIX.length());
  }
}
