package dev.thunderlink.sync.internal;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * One side of a session, as the coordinator sees it: a scanned index that it reads as deltas,
 * content it reads by block, and operations it applies after re-checking the disk. The
 * local side is a {@link DiskEndpoint}; the remote side is the same class on the host,
 * reached through {@link RemoteEndpoint} over gRPC. Every apply carries what the coordinator
 * believes the destination holds, and the endpoint refuses ({@link ApplyResult.Outcome#CHANGED})
 * when the disk says otherwise, so nothing the coordinator has not seen is ever clobbered.
 *
 * <p>Implementations are thread-safe; calls may block on disk or network.
 */
public interface Endpoint extends AutoCloseable {

  /** Identity and file-system semantics of this side. */
  record Info(String deviceName, boolean caseInsensitive, boolean normalizing) {}

  /**
   * Index entries changed since a sequence number; a null entry is a deletion. {@code generation}
   * names the side's index as it answered (new each time the side opens it; 0: a side that takes
   * no {@link Held} rows).
   */
  record ChangeSet(Map<String, Entry> changes, long lastSeq, Map<String, String> errors, List<String> collisions,
      boolean rootMissing, long generation, String watchProblem) {
    /** @param watchProblem why the side's tree is not watched (its changes wait for a rescan), or "" */
    public ChangeSet {
      watchProblem = watchProblem == null ? "" : watchProblem;
    }
  }

  /**
   * Rows of a side the coordinator holds already: the {@link ApplyResult#seq} of each apply
   * result it recorded in its view of the side, while the side's index was {@code generation}.
   * A {@link #changes} answer leaves out a row whose sequence number is among them, in that
   * generation only: a row rewritten since has a new number, a reply that was lost never gets
   * here, and a side that restarted (whose numbers may have been given again) leaves out nothing.
   *
   * @param ranges sorted, disjoint {@code [first, last]} pairs of sequence numbers
   */
  record Held(long generation, long[] ranges) {
    public static final Held NONE = new Held(0, new long[0]);

    public Held {
      if (ranges.length % 2 != 0) {
        throw new IllegalArgumentException("held seq ranges: " + ranges.length + " numbers (expected: [first, last] pairs)");
      }
      for (int i = 0; i < ranges.length; i += 2) {
        if (ranges[i] > ranges[i + 1] || (i > 0 && ranges[i] <= ranges[i - 1])) {
          throw new IllegalArgumentException("held seq range: [" + ranges[i] + ", " + ranges[i + 1]
              + "] (expected: first <= last, above the range before)");
        }
      }
    }

    /** The rows at {@code seqs} (ascending) of the side's index {@code generation}. */
    static Held of(long generation, java.util.SortedSet<Long> seqs) {
      long[] out = new long[2 * seqs.size()];
      int n = 0;
      for (long s : seqs) {
        if (n > 0 && out[n - 1] == s - 1) {
          out[n - 1] = s;
        } else {
          out[n++] = s;
          out[n++] = s;
        }
      }
      return new Held(generation, java.util.Arrays.copyOf(out, n));
    }

    /** True if the coordinator holds the row at {@code seq} of the index {@code generation}. */
    boolean holds(long generation, long seq) {
      if (generation == 0 || generation != this.generation || ranges.length == 0) {
        return false;
      }
      int lo = 0;
      int hi = ranges.length / 2 - 1;
      while (lo <= hi) { // the last range starting at or below seq
        int mid = (lo + hi) >>> 1;
        if (ranges[2 * mid] <= seq) {
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      return hi >= 0 && seq <= ranges[2 * hi + 1];
    }
  }

  /** Per-block fingerprints (hex, {@link ContentHash.BlockHasher}) of a file as it is on disk now. */
  record BlockSignature(long size, List<String> blockHashes) {}

  /** Receives bytes read from a file: {@code data} is the sink's to keep (a new array each call, never written again). */
  interface ChunkSink {
    void accept(long offset, byte[] data) throws IOException;
  }

  /** An atomic file write in progress: parts in increasing offset order, then commit or abort. */
  interface FileUpload extends AutoCloseable {
    /** Copies {@code blockCount} blocks from the destination's current file, at the same offsets. */
    void copyBasis(long firstBlock, long blockCount) throws IOException;

    void write(long offset, byte[] data) throws IOException;

    /**
     * Copies {@code length} bytes from {@code stagedOffset} of the file {@code stagedName} in the
     * destination's directory (a delta's changed blocks, staged there by {@link Bulk#stageRanges})
     * to {@code offset}. That file is removed when the upload ends, committed or not.
     */
    void copyStaged(String stagedName, long stagedOffset, long offset, long length) throws IOException;

    ApplyResult commit() throws IOException;

    /** Aborts if not committed; removes the temporary file. */
    @Override
    void close() throws IOException;
  }

  enum OpKind { MKDIR, DELETE, SYMLINK, RENAME, SET_ATTRIBUTES }

  /** A non-content operation; {@code expected} is what the path must hold right now. */
  record Op(OpKind kind, String path, Entry expected, Entry target, String toPath, Entry expectedTo) {}

  Info info();

  /**
   * Scans (the paths the watcher reported plus {@code rescanPaths}, or everything when
   * {@code full}) and returns the entries whose sequence number is above {@code sinceSeq},
   * but those the coordinator {@link Held holds} already.
   */
  ChangeSet changes(long sinceSeq, boolean full, Collection<String> rescanPaths, Held held) throws IOException;

  /** {@link #changes(long, boolean, Collection, Held)} holding nothing: every entry above {@code sinceSeq}. */
  default ChangeSet changes(long sinceSeq, boolean full, Collection<String> rescanPaths) throws IOException {
    return changes(sinceSeq, full, rescanPaths, Held.NONE);
  }

  /** Sets the callback run (on a watcher thread) when changes are pending; null clears it. */
  void onChange(Runnable listener);

  BlockSignature blocks(String path, int blockSize) throws IOException;

  /**
   * Reads ranges ({@code [offset, length]} pairs) of a file, failing with
   * {@link ContentChangedException} if it no longer has {@code expectedHash}.
   */
  void read(String path, String expectedHash, List<long[]> ranges, ChunkSink sink) throws IOException;

  FileUpload beginWrite(String path, Entry expected, Entry target, int blockSize) throws IOException;

  ApplyResult apply(Op op) throws IOException;

  /**
   * The bulk plane from this side to {@code to}, when content can go that way now (one side is
   * this machine's disk, the other the host reached over a link with a bulk plane that is up),
   * else null: content then goes by {@link #read} / {@link #readFiles} and {@link #beginWrite} /
   * {@link #writeFiles}.
   */
  default Bulk bulkTo(Endpoint to) {
    return null;
  }

  /** {@link #bulkTo}, asked of the receiving side: the bulk plane from {@code from} to this side, or null. */
  default Bulk bulkFrom(Endpoint from) {
    return null;
  }

  /** File content moved over the bulk plane, in one direction (see {@link #bulkTo}). */
  interface Bulk {
    /**
     * Moves whole files and installs them (each checked against its target's hash and its
     * destination re-checked, as {@link #writeFiles} does), one result per file in order: null
     * for a file that did not go this way. Null instead of a list when this plane does not carry
     * such files ({@code batch}: a batch of small files).
     */
    List<ApplyResult> files(List<String> paths, List<Entry> srcs, List<Entry> dsts, boolean batch, int blockSize)
        throws IOException;

    /**
     * Moves the {@code [offset, length]} ranges of the source's file {@code path} (scanned as
     * {@code src}), back to back, to a temporary file in the destination's directory, verified
     * against the hash of those bytes; returns that file's name for {@link FileUpload#copyStaged},
     * or null when they did not go this way (the reason is logged): the caller reads them.
     */
    String stageRanges(String path, Entry src, List<long[]> ranges) throws IOException;

    /**
     * True if {@link #files} carries batches of small files itself (their bytes over the plane,
     * the gRPC call only their names and hashes), so that a batch need not fit in one message:
     * the engine then gathers larger ones ({@code SessionEngine#BULK_BATCH_BYTES}).
     */
    default boolean carriesBatches() {
      return false;
    }
  }

  /** Most operations one {@link #applyAll} call carries. */
  int OPS_PER_CALL = 128;

  /**
   * Applies at most {@link #OPS_PER_CALL} operations in order, each re-checked and answered on
   * its own as by {@link #apply} (one round trip for a remote side); one result per op. An op
   * that fails with an I/O error answers {@link ApplyResult.Outcome#FAILED} and the rest still
   * run; a full disk or a lost peer throws, and ops before it may have been applied.
   */
  default List<ApplyResult> applyAll(List<Op> ops) throws IOException {
    if (ops.size() > OPS_PER_CALL) {
      throw new IllegalArgumentException("apply all: " + ops.size() + " ops (expected: at most " + OPS_PER_CALL + ")");
    }
    List<ApplyResult> out = new java.util.ArrayList<>(ops.size());
    for (Op op : ops) {
      out.add(applyOrFailed(this, op));
    }
    return out;
  }

  /**
   * {@code side.apply(op)}, with a changed source as a CHANGED result and any other I/O error
   * but a full disk or a lost peer as a FAILED one: what the coordinator makes of each when
   * the op runs alone.
   */
  static ApplyResult applyOrFailed(Endpoint side, Op op) throws IOException {
    try {
      return side.apply(op);
    } catch (DiskFullException | PeerUnavailableException e) {
      throw e;
    } catch (ContentChangedException e) {
      return ApplyResult.changed(e.getMessage());
    } catch (IOException e) {
      if (DiskFullException.isNoSpace(e)) {
        throw e;
      }
      return ApplyResult.failed(e);
    }
  }

  /** A small file sent whole: {@code data} must hash to {@code target.hash()}. */
  record WholeFile(String path, Entry expected, Entry target, byte[] data) {}

  /**
   * Reads small files whole, in one go (one round trip for a remote side). An element is
   * null when that file no longer has its expected hash (modified while being sent).
   */
  List<byte[]> readFiles(List<String> paths, List<String> expectedHashes) throws IOException;

  /**
   * Writes small files whole, each atomically and checked against its {@code expected}
   * entry on its own, as {@link #beginWrite} does; one result per file, in order. The side
   * keeps the fingerprints of {@code blockSize} blocks of each file larger than that, as an
   * upload does, so the next delta of the file needs no read. A full disk throws
   * {@link DiskFullException}; files before the refused one may have landed (whole).
   */
  List<ApplyResult> writeFiles(List<WholeFile> files, int blockSize) throws IOException;

  @Override
  void close() throws IOException;

  /**
   * The session was terminated: {@link #close} also deletes the state this side keeps for it
   * elsewhere (the host's index of a remote endpoint). Nothing to do where the caller owns the
   * state's directory.
   */
  default void forgetOnClose() {}

  /**
   * After a {@link #close} that was to forget: whether that state is gone for sure (false: the
   * side that keeps it could not be told, e.g. a host out of reach). True where there is none.
   */
  default boolean forgotten() {
    return true;
  }

  /**
   * Whether this side's ignore rules (the session's patterns, {@code .thunderlinkignore},
   * {@code .gitignore} files) leave {@code path} out, as of its last {@link #changes}. The
   * coordinator asks the workstation's own side only (the host's rules come from the same
   * files, mirrored); false where a side cannot say.
   */
  default boolean ignores(String path, boolean isDirectory) {
    return false;
  }

  /**
   * A number that changes whenever a rule file this side reads ({@code .thunderlinkignore}, a
   * {@code .gitignore} where the session reads them) changed content since its first scan: the
   * coordinator then looks at every path again against the new rules.
   */
  default long ignoreRulesVersion() {
    return 0;
  }

  /** The source file no longer has the content the coordinator planned to send. */
  final class ContentChangedException extends IOException {
    public ContentChangedException(String message) {
      super(message);
    }
  }

  /**
   * A side ran out of space (or inodes) while applying: nothing was changed there, the
   * temporary file is gone, and the session pauses until space returns.
   */
  final class DiskFullException extends IOException {
    public DiskFullException(String message) {
      super(message);
    }

    /** True if {@code e} (or a cause) is the operating system's "no space" error. */
    public static boolean isNoSpace(Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        String m = t.getMessage();
        if (t instanceof DiskFullException || (m != null && (m.contains("No space left on device")
            || m.contains("Disk quota exceeded") || m.contains("SQLITE_FULL")))) {
          return true;
        }
      }
      return false;
    }
  }

  /** The peer could not be reached (link down, host restarting): retry the whole cycle later. */
  final class PeerUnavailableException extends IOException {
    public PeerUnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
