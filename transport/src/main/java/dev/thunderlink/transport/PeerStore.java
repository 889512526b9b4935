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
  private final List<java.util.function.Consumer<java.util.Set<String>>> unpinnedListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private List<PairedPeer> peers = List.of();
  private FileTime loadedMtime;
  private long checkedAtNanos;
  private boolean loadedOnce;

  public PeerStore(Path file) {
    this.file = file;
  }

  /**
   * Tells {@code listener} the fingerprints (lower case) of peers no longer pinned, each time
   * some go: an {@code unpair} here, or the file rewritten by the CLI (seen at the next read of
   * the store, at most half a second after, since every authorized call reads it). It runs
   * under the store's lock and must not block: hand the work to an event loop.
   */
  public void onUnpinned(java.util.function.Consumer<java.util.Set<String>> listener) {
    unpinnedListeners.add(listener);
  }

  private void replace(List<PairedPeer> next) {
    java.util.Set<String> gone = new java.util.HashSet<>();
    for (PairedPeer p : peers) {
      gone.add(p.fingerprint().toLowerCase(Locale.ROOT));
    }
    for (PairedPeer p : next) {
      gone.remove(p.fingerprint().toLowerCase(Locale.ROOT));
    }
    peers = List.copyOf(next);
    if (!gone.isEmpty()) {
      java.util.Set<String> removed = java.util.Set.copyOf(gone);
      for (java.util.function.Consumer<java.util.Set<String>> l : unpinnedListeners) {
        l.accept(removed);
      }
    }
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
    replace(next);
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
        replace(List.of());
        loadedMtime = null;
        return;
      }
      FileTime mtime = Files.getLastModifiedTime(file);
      if (loadedMtime != null && loadedMtime.equals(mtime)) {
        return;
      }
      replace(JSON.readValue(file.toFile(), new TypeReference<List<PairedPeer>>() {}));
      loadedMtime = mtime;
    } catch (IOException e) {
      throw new IllegalStateException(
          "peers file " + file + " is unreadable (" + e.getMessage() + "); fix or remove it and pair again", e);
    }
  }
}
