package dev.thunderlink.benchmarks.bench;

import java.util.List;

/** Where {@code thunderlink bench} measures: the paths to a host, emulated or real. */
interface BenchEnvironment extends AutoCloseable {

  /** One target per path, in report order (Thunderbolt first). */
  List<BenchTarget> targets();

  /** One line for the report: what the host and the paths are. */
  String description();

  /** {@code emulate} or {@code home}. */
  String mode();
}
