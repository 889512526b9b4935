package dev.thunderlink.sync.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A session's persistent state on one side, in an embedded SQLite database (sqlite-jdbc) in
 * WAL mode. Every change is one transaction, so a kill -9 at any moment leaves either the old
 * or the new state, never a mix. On open the database is checked ({@code PRAGMA quick_check});
 * a corrupt or unreadable file is moved aside and a fresh one created, and {@link #rebuilt()}
 * says so: the caller then rescans, which loses no data (a missing ancestor only turns
 * differences into kept-both conflicts).
 *
 * <p>Tables: {@code entries} (a side's index, with tombstones and sequence numbers),
 * {@code blocks} (block fingerprints of a side's larger files, valid while the file still has
 * the content hash stored beside them), {@code ancestor} (the last state both sides agreed on,
 * kept by the coordinator),
 * {@code conflicts} and {@code meta}.
 *
 * <p>Thread-safe: every method is synchronized on the store (one JDBC connection).
 */
public final class StateStore implements AutoCloseable {
  private final Connection conn;
  private final boolean rebuilt;
  private final Path file;

  private StateStore(Path file, Connection conn, boolean rebuilt) {
    this.file = file;
    this.conn = conn;
    this.rebuilt = rebuilt;
  }

  /**
   * Makes sqlite-jdbc ready on a background thread: on its first connection the driver
   * extracts its native library from the jar to a temporary file and loads it, which took
   * 0.5-0.8 s (0.2-0.3 s CPU) on a loaded 2-core machine, once per side, in series on
   * {@code sync create}'s path. A daemon that serves sessions calls this when it starts; an
   * open that comes first simply waits for the driver's own lock. A failure here is left for
   * that open to report.
   */
  public static void preload() {
    Thread t = new Thread(() -> {
      try {
        DriverManager.getConnection("jdbc:sqlite::memory:").close();
      } catch (SQLException | RuntimeException | LinkageError e) {
        // the first real open meets the same problem and reports it
      }
    }, "sqlite-preload");
    t.setDaemon(true);
    t.start();
  }

  /** Deletes a session's state directory (its database and the database's journal files). */
  public static void deleteDir(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (java.util.stream.Stream<Path> w = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) w.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  public static StateStore open(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    boolean rebuilt = false;
    Connection conn = null;
    try {
      conn = connect(file);
      if (!healthy(conn)) {
        throw new SQLException("quick_check failed");
      }
    } catch (SQLException e) {
      closeQuietly(conn);
      rebuilt = Files.exists(file);
      moveAside(file);
      try {
        conn = connect(file);
      } catch (SQLException e2) {
        throw new IOException("cannot create state database " + file + ": " + e2.getMessage(), e2);
      }
    }
    return new StateStore(file, conn, rebuilt);
  }

  private static Connection connect(Path file) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      // NORMAL in WAL mode is durable against process crashes (kill -9); only a power loss
      // may roll back the last transactions, which a rescan repairs.
      s.execute("PRAGMA synchronous=NORMAL");
      s.execute("PRAGMA busy_timeout=5000");
      s.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
      s.execute("CREATE TABLE IF NOT EXISTS entries (path TEXT PRIMARY KEY, disk_path TEXT NOT NULL,"
          + " kind INTEGER NOT NULL, hash TEXT, size INTEGER NOT NULL, exec INTEGER NOT NULL, target TEXT,"
          + " mtime_ms INTEGER NOT NULL, stat_size INTEGER NOT NULL, stat_mtime_ns INTEGER NOT NULL,"
          + " stat_key TEXT, seq INTEGER NOT NULL)");
      s.execute("CREATE INDEX IF NOT EXISTS entries_seq ON entries(seq)");
      s.execute("CREATE TABLE IF NOT EXISTS blocks (path TEXT PRIMARY KEY, hash TEXT NOT NULL,"
          + " block_size INTEGER NOT NULL, fingerprints BLOB NOT NULL)");
      s.execute("CREATE TABLE IF NOT EXISTS ancestor (path TEXT PRIMARY KEY, kind INTEGER NOT NULL, hash TEXT,"
          + " size INTEGER NOT NULL, exec INTEGER NOT NULL, target TEXT, mtime_ms INTEGER NOT NULL)");
      s.execute("CREATE TABLE IF NOT EXISTS conflicts (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL,"
          + " copy_path TEXT NOT NULL, device TEXT NOT NULL, at_ms INTEGER NOT NULL, reason TEXT NOT NULL)");
      s.execute("CREATE TABLE IF NOT EXISTS left_ignored (path TEXT PRIMARY KEY)");
    } catch (SQLException e) {
      closeQuietly(c);
      throw e;
    }
    c.setAutoCommit(false);
    c.commit();
    return c;
  }

  private static boolean healthy(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA quick_check")) {
      return rs.next() && "ok".equalsIgnoreCase(rs.getString(1));
    }
  }

  private static void moveAside(Path file) throws IOException {
    for (String suffix : new String[] {"", "-wal", "-shm"}) {
      Path p = file.resolveSibling(file.getFileName() + suffix);
      if (Files.exists(p)) {
        Files.move(p, file.resolveSibling(file.getFileName() + suffix + ".corrupt-" + System.currentTimeMillis()),
            StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // already failing
      }
    }
  }

  /** True if the database was found corrupt on open and recreated empty. */
  public boolean rebuilt() {
    return rebuilt;
  }

  public Path file() {
    return file;
  }

  public synchronized String meta(String key) throws IOException {
    try (PreparedStatement ps = conn.prepareStatement("SELECT v FROM meta WHERE k=?")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        String v = rs.next() ? rs.getString(1) : null;
        conn.commit();
        return v;
      }
    } catch (SQLException e) {
      throw fail(e);
    }
  }

  public synchronized void setMeta(String key, String value) throws IOException {
    try (PreparedStatement ps = conn.prepareStatement("INSERT OR REPLACE INTO meta(k,v) VALUES(?,?)")) {
      ps.setString(1, key);
      ps.setString(2, value);
      ps.executeUpdate();
      conn.commit();
    } catch (SQLException e) {
      throw rollback(e);
    }
  }

  // ---- entries (a side's index) ----

  public synchronized Map<String, IndexRecord> loadEntries() throws IOException {
    Map<String, IndexRecord> out = new HashMap<>();
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT path, disk_path, kind, hash, size, exec, target, mtime_ms,"
            + " stat_size, stat_mtime_ns, stat_key, seq FROM entries")) {
      while (rs.next()) {
        Entry e = readEntry(rs, 3);
        out.put(rs.getString(1), new IndexRecord(rs.getString(1), rs.getString(2), e, rs.getLong(9), rs.getLong(10),
            rs.getString(11), rs.getLong(12)));
      }
      conn.commit();
    } catch (SQLException e) {
      throw fail(e);
    }
    return out;
  }

  /** Block fingerprints of a file with content {@code hash} ({@link ContentHash.BlockHasher}). */
  public record BlockList(String hash, int blockSize, byte[] fingerprints) {}

  /** Upserts index rows and records {@code lastSeq}, atomically. */
  public synchronized void writeEntries(Collection<IndexRecord> rows, long lastSeq) throws IOException {
    writeEntries(rows, lastSeq, Map.of());
  }

  /**
   * Upserts index rows, the block fingerprints of some of them, and records {@code lastSeq},
   * atomically. A row that is no longer a file drops its fingerprints.
   */
  public synchronized void writeEntries(Collection<IndexRecord> rows, long lastSeq, Map<String, BlockList> blocks)
      throws IOException {
    try (PreparedStatement bl = conn.prepareStatement(
        "INSERT OR REPLACE INTO blocks(path, hash, block_size, fingerprints) VALUES(?,?,?,?)");
        PreparedStatement dropBl = conn.prepareStatement("DELETE FROM blocks WHERE path=?")) {
      // only files above the block size have fingerprints: with none stored (a tree of small
      // files) a tombstone for each of 20,000 deleted files needs no delete of its own
      if (hasBlocks()) {
        for (IndexRecord r : rows) {
          if (r.entry() == null || !r.entry().isFile()) {
            dropBl.setString(1, r.path());
            dropBl.addBatch();
          }
        }
      }
      for (Map.Entry<String, BlockList> b : blocks.entrySet()) {
        bl.setString(1, b.getKey());
        bl.setString(2, b.getValue().hash());
        bl.setInt(3, b.getValue().blockSize());
        bl.setBytes(4, b.getValue().fingerprints());
        bl.addBatch();
      }
      dropBl.executeBatch();
      bl.executeBatch();
    } catch (SQLException e) {
      throw rollback(e);
    }
    try (PreparedStatement ps = conn.prepareStatement("INSERT OR REPLACE INTO entries(path, disk_path, kind, hash,"
        + " size, exec, target, mtime_ms, stat_size, stat_mtime_ns, stat_key, seq) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
        PreparedStatement meta = conn.prepareStatement("INSERT OR REPLACE INTO meta(k,v) VALUES('last_seq',?)")) {
      for (IndexRecord r : rows) {
        ps.setString(1, r.path());
        ps.setString(2, r.diskPath());
        bindEntry(ps, 3, r.entry());
        ps.setLong(9, r.statSize());
        ps.setLong(10, r.statMtimeNanos());
        ps.setString(11, r.statKey());
        ps.setLong(12, r.seq());
        ps.addBatch();
      }
      ps.executeBatch();
      meta.setString(1, Long.toString(lastSeq));
      meta.executeUpdate();
      conn.commit();
    } catch (SQLException e) {
      throw rollback(e);
    }
  }

  private boolean hasBlocks() throws SQLException {
    try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM blocks)")) {
      return rs.next() && rs.getInt(1) != 0;
    }
  }

  /** The stored fingerprints of a path's blocks, or null (whether they still match is the caller's check). */
  public synchronized BlockList loadBlocks(String path) throws IOException {
    try (PreparedStatement ps = conn.prepareStatement("SELECT hash, block_size, fingerprints FROM blocks WHERE path=?")) {
      ps.setString(1, path);
      try (ResultSet rs = ps.executeQuery()) {
        BlockList b = rs.next() ? new BlockList(rs.getString(1), rs.getInt(2), rs.getBytes(3)) : null;
        conn.commit();
        return b;
      }
    } catch (SQLException e) {
      throw fail(e);
    }
  }

  // ---- ancestor (coordinator) ----

  public synchronized Map<String, Entry> loadAncestor() throws IOException {
    Map<String, Entry> out = new HashMap<>();
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT path, kind, hash, size, exec, target, mtime_ms FROM ancestor")) {
      while (rs.next()) {
        out.put(rs.getString(1), readEntry(rs, 2));
      }
      conn.commit();
    } catch (SQLException e) {
      throw fail(e);
    }
    return out;
  }

  /** Applies ancestor changes (a null value deletes the row) in one transaction. */
  public synchronized void writeAncestor(Map<String, Entry> changes) throws IOException {
    writeAncestor(changes, Set.of(), Set.of());
  }

  /** Paths the coordinator left out while the rules ignored them ({@code SessionEngine}). */
  public synchronized Set<String> loadLeftIgnored() throws IOException {
    Set<String> out = new HashSet<>();
    try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT path FROM left_ignored")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      conn.commit();
    } catch (SQLException e) {
      throw fail(e);
    }
    return out;
  }

  /**
   * As above, with the paths that join and leave the left-out-while-ignored set, in the same
   * transaction: an ancestor row pruned because its path is ignored is never gone without the
   * mark that says why.
   */
  public synchronized void writeAncestor(Map<String, Entry> changes, Set<String> leftAdded, Set<String> leftRemoved)
      throws IOException {
    if (changes.isEmpty() && leftAdded.isEmpty() && leftRemoved.isEmpty()) {
      return;
    }
    try (PreparedStatement up = conn.prepareStatement("INSERT OR REPLACE INTO ancestor(path, kind, hash, size, exec,"
        + " target, mtime_ms) VALUES(?,?,?,?,?,?,?)");
        PreparedStatement del = conn.prepareStatement("DELETE FROM ancestor WHERE path=?");
        PreparedStatement leftUp = conn.prepareStatement("INSERT OR IGNORE INTO left_ignored(path) VALUES(?)");
        PreparedStatement leftDel = conn.prepareStatement("DELETE FROM left_ignored WHERE path=?")) {
      for (String p : leftAdded) {
        leftUp.setString(1, p);
        leftUp.addBatch();
      }
      for (String p : leftRemoved) {
        leftDel.setString(1, p);
        leftDel.addBatch();
      }
      leftUp.executeBatch();
      leftDel.executeBatch();
      for (Map.Entry<String, Entry> c : changes.entrySet()) {
        if (c.getValue() == null) {
          del.setString(1, c.getKey());
          del.addBatch();
        } else {
          up.setString(1, c.getKey());
          bindEntry(up, 2, c.getValue());
          up.addBatch();
        }
      }
      up.executeBatch();
      del.executeBatch();
      conn.commit();
    } catch (SQLException e) {
      throw rollback(e);
    }
  }

  // ---- conflicts ----

  public record ConflictRow(String path, String copyPath, String device, long atMillis, String reason) {}

  /**
   * How many conflicts were kept, counted once and then kept up to date (rows are only ever
   * added): {@code status} asks for it, and the metrics feed asks every second, which read every
   * row of the table each time.
   */
  public synchronized long conflictCount() throws IOException {
    if (conflictCount < 0) {
      try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM conflicts")) {
        rs.next();
        conflictCount = rs.getLong(1);
        conn.commit();
      } catch (SQLException e) {
        throw fail(e);
      }
    }
    return conflictCount;
  }

  private long conflictCount = -1; // not counted yet

  public synchronized void addConflict(ConflictRow row) throws IOException {
    try (PreparedStatement ps = conn.prepareStatement(
        "INSERT INTO conflicts(path, copy_path, device, at_ms, reason) VALUES(?,?,?,?,?)")) {
      ps.setString(1, row.path());
      ps.setString(2, row.copyPath());
      ps.setString(3, row.device());
      ps.setLong(4, row.atMillis());
      ps.setString(5, row.reason());
      ps.executeUpdate();
      conn.commit();
      if (conflictCount >= 0) {
        conflictCount++;
      }
    } catch (SQLException e) {
      throw rollback(e);
    }
  }

  public synchronized List<ConflictRow> conflicts() throws IOException {
    List<ConflictRow> out = new ArrayList<>();
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT path, copy_path, device, at_ms, reason FROM conflicts ORDER BY id")) {
      while (rs.next()) {
        out.add(new ConflictRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5)));
      }
      conn.commit();
    } catch (SQLException e) {
      throw fail(e);
    }
    return out;
  }

  private static void bindEntry(PreparedStatement ps, int i, Entry e) throws SQLException {
    if (e == null) {
      ps.setInt(i, -1);
      ps.setString(i + 1, null);
      ps.setLong(i + 2, 0);
      ps.setInt(i + 3, 0);
      ps.setString(i + 4, null);
      ps.setLong(i + 5, 0);
      return;
    }
    ps.setInt(i, e.kind().ordinal());
    ps.setString(i + 1, e.hash());
    ps.setLong(i + 2, e.size());
    ps.setInt(i + 3, e.executable() ? 1 : 0);
    ps.setString(i + 4, e.target());
    ps.setLong(i + 5, e.mtimeMillis());
  }

  private static Entry readEntry(ResultSet rs, int i) throws SQLException {
    int kind = rs.getInt(i);
    if (kind < 0) {
      return null;
    }
    return new Entry(Kind.values()[kind], rs.getString(i + 1), rs.getLong(i + 2), rs.getInt(i + 3) != 0,
        rs.getString(i + 4), rs.getLong(i + 5));
  }

  private IOException fail(SQLException e) {
    return new IOException("state database " + file + ": " + e.getMessage(), e);
  }

  private IOException rollback(SQLException e) {
    try {
      conn.rollback();
    } catch (SQLException ignored) {
      // the original error matters more
    }
    return fail(e);
  }

  @Override
  public synchronized void close() throws IOException {
    try {
      conn.close();
    } catch (SQLException e) {
      throw fail(e);
    }
  }
}
