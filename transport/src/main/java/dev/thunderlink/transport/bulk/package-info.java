/**
 * The bulk data plane: file bytes between the daemons on raw framed connections to the link
 * port, beside gRPC.
 *
 * <p>Host: {@link dev.thunderlink.transport.bulk.BulkServer} (a {@code BulkAcceptor} plus
 * the {@code BulkControl} gRPC service). Workstation: {@link
 * dev.thunderlink.transport.bulk.BulkClient} opens {@link
 * dev.thunderlink.transport.bulk.BulkSession}s that push and pull files.
 *
 * <p>Design. gRPC carries what trust rests on — the one-time ticket that admits a bulk
 * connection, the SHA-256 of every file, the receiver's verdict — so the bulk connection
 * may run in plaintext on a Thunderbolt cable (where sendfile needs plaintext) without
 * losing end-to-end integrity; elsewhere it runs in TLS 1.3 with the pinned certificates.
 * Frames are {@code u32 length, u8 type, u32 stream, payload}; a session numbers its files
 * as streams and sends them back to back (no round trip per file); each file picks its mode
 * (sendfile, LZ4, buffer, TLS) from a probe of its first block. The receiver writes to a
 * hidden temporary file beside the destination and renames it only once the hashes agree;
 * on a lost connection it keeps the temporary file, and the next session resumes from it
 * after comparing the hash of the kept bytes.
 */
package dev.thunderlink.transport.bulk;
