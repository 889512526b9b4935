package dev.thunderlink.inference.internal;

/**
 * Where one request's first token spends its time: a nanoTime stamp at each hop of the path
 * (front, gRPC call, host, scheduler, upstream, simulator and back). A measuring aid for
 * {@code token-compare.sh} ({@code -Dthunderlink.hops=true}); off, every {@link #mark} is a
 * constant-false branch the JIT removes. Only one request is traced at a time: the measuring
 * client calls {@link #begin} before its request and {@link #end} after its first token, and
 * each hop keeps its first stamp.
 */
public final class Hops {
  /** On only with -Dthunderlink.hops=true. */
  public static final boolean ON = Boolean.getBoolean("thunderlink.hops");

  public static final int FRONT_READ = 0;
  public static final int JSON_PARSED = 1;
  public static final int PROTO_BUILT = 2;
  public static final int CALL_ISSUED = 3;
  public static final int HOST_CALL_STARTED = 4;
  public static final int HOST_SEES = 5;
  public static final int UPSTREAM_CALL = 6;
  public static final int UPSTREAM_WRITTEN = 7;
  public static final int SIM_READ = 8;
  public static final int SIM_FIRST_TOKEN = 9;
  public static final int FIRST_LINE = 10;
  public static final int HOST_SENDS = 11;
  public static final int WS_RECEIVES = 12;
  public static final int FRONT_WRITES = 13;
  public static final int CLIENT_GOT = 14;

  public static final String[] NAMES = {"front has the request", "JSON parsed", "request message built", "gRPC call issued",
      "host's gRPC starts the call", "host's service sees it", "scheduler starts the upstream call", "upstream request written",
      "simulator reads it", "simulator writes the first token", "first upstream line",
      "host sends the chunk", "workstation receives it", "front writes it", "client has it"};

  private static volatile long[] current;

  private Hops() {}

  /** Starts tracing one request; stamps count from now. */
  public static void begin() {
    long[] a = new long[NAMES.length + 1];
    a[NAMES.length] = System.nanoTime();
    current = a;
  }

  public static void mark(int hop) {
    if (ON) {
      long[] a = current;
      if (a != null && a[hop] == 0) {
        a[hop] = System.nanoTime();
      }
    }
  }

  /** Stops tracing; each hop's time since {@link #begin} in ms (NaN if not reached). */
  public static double[] end() {
    long[] a = current;
    current = null;
    double[] ms = new double[NAMES.length];
    for (int i = 0; i < ms.length; i++) {
      ms[i] = a == null || a[i] == 0 ? Double.NaN : (a[i] - a[NAMES.length]) / 1e6;
    }
    return ms;
  }
}
