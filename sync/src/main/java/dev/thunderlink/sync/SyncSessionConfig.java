package dev.thunderlink.sync;

import dev.thunderlink.sync.internal.IgnoreRules;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Immutable, validated definition of a sync session. Build with {@link #builder(String)};
 * every bad value fails at {@link Builder#build()} with a one-line message of the form
 * {@code value: X (expected: ...)}.
 */
public final class SyncSessionConfig {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** What to do with a symlink whose target lies outside the sync root. */
  public enum OutsideSymlinks {
    /** Not synced; reported per path in status. */
    REFUSE,
    /** Synced as a link with the same target text; never followed. */
    KEEP
  }

  private final String name;
  private final Path localRoot;
  private final String remoteRoot;
  private final SyncMode mode;
  private final List<String> ignores;
  private final boolean useGitignoreFiles;
  private final boolean ignoreVcs;
  private final OutsideSymlinks outsideSymlinks;
  private final Path stateDir;
  private final String deviceName;
  private final Duration rescanInterval;
  private final Duration debounce;
  private final Duration macosLatency;
  private final boolean watch;
  private final int blockSize;
  private final double safetyDeleteFraction;
  private final int safetyMinimumEntries;

  private SyncSessionConfig(Builder b) {
    this.name = b.name;
    this.localRoot = b.localRoot;
    this.remoteRoot = b.remoteRoot;
    this.mode = b.mode;
    this.ignores = List.copyOf(b.ignores);
    this.useGitignoreFiles = b.useGitignoreFiles;
    this.ignoreVcs = b.ignoreVcs;
    this.outsideSymlinks = b.outsideSymlinks;
    this.stateDir = b.stateDir;
    this.deviceName = b.deviceName;
    this.rescanInterval = b.rescanInterval;
    this.debounce = b.debounce;
    this.macosLatency = b.macosLatency;
    this.watch = b.watch;
    this.blockSize = b.blockSize;
    this.safetyDeleteFraction = b.safetyDeleteFraction;
    this.safetyMinimumEntries = b.safetyMinimumEntries;
  }

  /** Throws IllegalArgumentException, saying what a name may be, unless {@code name} is a valid session name. */
  public static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("name: " + name + " (expected: 1-64 of [A-Za-z0-9._-], starting alphanumeric)");
    }
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  public String name() { return name; }
  public Path localRoot() { return localRoot; }
  public String remoteRoot() { return remoteRoot; }
  public SyncMode mode() { return mode; }
  public List<String> ignores() { return ignores; }
  public boolean useGitignoreFiles() { return useGitignoreFiles; }
  /** {@code --vcs ignore}: leave {@code .git} out of the session (it syncs by default). */
  public boolean ignoreVcs() { return ignoreVcs; }
  public OutsideSymlinks outsideSymlinks() { return outsideSymlinks; }
  /** Directory holding this session's databases (one per side). */
  public Path stateDir() { return stateDir; }
  public String deviceName() { return deviceName; }
  public Duration rescanInterval() { return rescanInterval; }
  public Duration debounce() { return debounce; }
  /** FSEvents latency on macOS (directory-watcher's default is 0.5 s). */
  public Duration macosLatency() { return macosLatency; }
  public boolean watch() { return watch; }
  public int blockSize() { return blockSize; }
  public double safetyDeleteFraction() { return safetyDeleteFraction; }
  public int safetyMinimumEntries() { return safetyMinimumEntries; }

  @Override
  public String toString() {
    return "SyncSessionConfig{" + name + ", " + localRoot + " <-> " + remoteRoot + ", " + mode.cliName() + "}";
  }

  /** FSEvents' latency on macOS unless set: its own default (0.5 s) would add half a second to every edit. */
  public static final Duration DEFAULT_MACOS_LATENCY = Duration.ofMillis(10);
  /** The periodic full rescan unless set. */
  public static final Duration DEFAULT_RESCAN_INTERVAL = Duration.ofMinutes(5);
  /**
   * The safety stop unless set: a plan that would delete at least this share of a side's entries
   * (or leave it that much below the most it had within a minute) halts the session...
   */
  public static final double DEFAULT_SAFETY_DELETE_FRACTION = 0.5;
  /** ...when that is more than this many entries. */
  public static final int DEFAULT_SAFETY_MINIMUM_ENTRIES = 20;

  /** Validating builder; not thread-safe. */
  public static final class Builder {
    private final String name;
    private Path localRoot;
    private String remoteRoot;
    private SyncMode mode = SyncMode.TWO_WAY_SAFE;
    private final List<String> ignores = new ArrayList<>();
    private boolean useGitignoreFiles;
    private boolean ignoreVcs;
    private OutsideSymlinks outsideSymlinks = OutsideSymlinks.REFUSE;
    private Path stateDir;
    private String deviceName = "workstation";
    private Duration rescanInterval = DEFAULT_RESCAN_INTERVAL;
    private Duration debounce = Duration.ofMillis(2);
    private Duration macosLatency = DEFAULT_MACOS_LATENCY;
    private boolean watch = true;
    private int blockSize = 128 * 1024;
    private double safetyDeleteFraction = DEFAULT_SAFETY_DELETE_FRACTION;
    private int safetyMinimumEntries = DEFAULT_SAFETY_MINIMUM_ENTRIES;

    private Builder(String name) {
      this.name = name;
    }

    public Builder localRoot(Path p) { this.localRoot = p; return this; }
    public Builder remoteRoot(String p) { this.remoteRoot = p; return this; }
    public Builder mode(SyncMode m) { this.mode = m; return this; }
    public Builder ignore(String pattern) { this.ignores.add(pattern); return this; }
    public Builder ignores(List<String> patterns) { this.ignores.addAll(patterns); return this; }
    public Builder useGitignoreFiles(boolean b) { this.useGitignoreFiles = b; return this; }
    public Builder ignoreVcs(boolean b) { this.ignoreVcs = b; return this; }
    public Builder outsideSymlinks(OutsideSymlinks p) { this.outsideSymlinks = p; return this; }
    public Builder stateDir(Path p) { this.stateDir = p; return this; }
    public Builder deviceName(String d) { this.deviceName = d; return this; }
    public Builder rescanInterval(Duration d) { this.rescanInterval = d; return this; }
    public Builder debounce(Duration d) { this.debounce = d; return this; }
    public Builder macosLatency(Duration d) { this.macosLatency = d; return this; }
    public Builder watch(boolean w) { this.watch = w; return this; }
    public Builder blockSize(int b) { this.blockSize = b; return this; }
    public Builder safetyDeleteFraction(double f) { this.safetyDeleteFraction = f; return this; }
    public Builder safetyMinimumEntries(int n) { this.safetyMinimumEntries = n; return this; }

    public SyncSessionConfig build() {
      checkName(name);
      if (localRoot == null || !localRoot.isAbsolute()) {
        throw new IllegalArgumentException("local root: " + localRoot + " (expected: an absolute path)");
      }
      if (remoteRoot == null || remoteRoot.isBlank()) {
        throw new IllegalArgumentException("remote root: " + remoteRoot + " (expected: a path on the host)");
      }
      Objects.requireNonNull(mode, "mode");
      Objects.requireNonNull(outsideSymlinks, "outsideSymlinks");
      for (String p : ignores) {
        IgnoreRules.validatePattern(p);
      }
      if (stateDir == null) {
        throw new IllegalArgumentException("state dir: null (expected: a directory for the session databases)");
      }
      if (deviceName == null || deviceName.isBlank()) {
        throw new IllegalArgumentException("device name: '" + deviceName + "' (expected: non-empty)");
      }
      nonNegative("rescan interval", rescanInterval); // zero: no periodic rescan (the watchers and flushes alone)
      nonNegative("debounce", debounce);
      nonNegative("macOS latency", macosLatency);
      if (blockSize < 4096 || blockSize > (1 << 22) || Integer.bitCount(blockSize) != 1) {
        throw new IllegalArgumentException("block size: " + blockSize + " (expected: a power of two in [4096, 4194304])");
      }
      if (!(safetyDeleteFraction > 0 && safetyDeleteFraction <= 1)) {
        throw new IllegalArgumentException("safety delete fraction: " + safetyDeleteFraction + " (expected: in (0, 1])");
      }
      if (safetyMinimumEntries < 0) {
        throw new IllegalArgumentException("safety minimum entries: " + safetyMinimumEntries + " (expected: >= 0)");
      }
      return new SyncSessionConfig(this);
    }

    private static void positive(String what, Duration d) {
      if (d == null || d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(what + ": " + d + " (expected: > 0)");
      }
    }

    private static void nonNegative(String what, Duration d) {
      if (d == null || d.isNegative()) {
        throw new IllegalArgumentException(what + ": " + d + " (expected: >= 0)");
      }
    }
  }
}
