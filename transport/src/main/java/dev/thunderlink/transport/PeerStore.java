package dev.thunderlink.transport;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The pinned peers, kept in {@code HOME/peers.json}. The CLI's {@code pair} and
 * {@code unpair} write the file while a daemon may be running; the daemon rereads it when
 * its modification time changes, so no restart is needed after pairing.
 *
 * <p>Thread-safe: every method synchronizes on the store. Writes are atomic (temp + rename).
 */
public final class PeerStore {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Path file;
  private List<PairedPeer> peers = List.of();
  private FileTime loadedMtime;
  private long checkedAtNanos;
  private boolean loadedOnce;

  public PeerStore(Path file) {
    this.file = file;
  }

  /** All pinned peers (reloading the file if it changed). */
  public synchronized List<PairedPeer> peers() {
    reloadIfChanged();
    return peers;
  }

  public synchronized Optional<PairedPeer> byFingerprint(String fingerprint) {
    reloadIfChanged();
    return peers.stream().filter(p -> p.fingerprint().equalsIgnoreCase(fingerprint)).findFirst();
  }

  public synchronized boolean isPinned(String fingerprint) {
    return byFingerprint(fingerprint).isPresent();
  }

  /** Adds or replaces (same device id) a peer. */
  public synchronized void put(PairedPeer peer) throws IOException {
    reloadIfChanged();
    List<PairedPeer> next = new ArrayList<>();
    for (PairedPeer p : peers) {
      if (!p.deviceId().equals(peer.deviceId())) {
        next.add(p);
      }
    }
    next.add(peer);
    write(next);
  }

  /** Removes by device id (any case, dashes optional) or fingerprint prefix; true if found. */
  public synchronized boolean remove(String id) throws IOException {
    reloadIfChanged();
    String want = normalize(id);
    List<PairedPeer> next = new ArrayList<>();
    boolean removed = false;
    for (PairedPeer p : peers) {
      if (normalize(p.deviceId()).equals(want) || (want.length() >= 8 && p.fingerprint().startsWith(want))) {
        removed = true;
      } else {
        next.add(p);
      }
    }
    if (removed) {
      write(next);
    }
    return removed;
  }

  private static String normalize(String id) {
    return id.replace("-", "").toLowerCase(Locale.ROOT);
  }

  private void write(List<PairedPeer> next) throws IOException {
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    JSON.writeValue(tmp.toFile(), next);
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    peers = List.copyOf(next);
    loadedMtime = Files.getLastModifiedTime(file);
  }

  private void reloadIfChanged() {
    long now = System.nanoTime();
    if (loadedOnce && now - checkedAtNanos < 500_000_000L) {
      return; // at most two file checks a second: this runs on every authorized call
    }
    checkedAtNanos = now;
    loadedOnce = true;
    try {
      if (!Files.exists(file)) {
        peers = List.of();
        loadedMtime = null;
        return;
      }
      FileTime mtime = Files.getLastModifiedTime(file);
      if (loadedMtime != null && loadedMtime.equals(mtime)) {
        return;
      }
      peers = List.copyOf(JSON.readValue(file.toFile(), new TypeReference<List<PairedPeer>>() {}));
      loadedMtime = mtime;
    } catch (IOException e) {
      throw new IllegalStateException(
          "peers file " + file + " is unreadable (" + e.getMessage() + "); fix or remove it and pair again", e);
    }
  }
}
