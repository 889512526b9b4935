package dev.thunderlink.transport.bulk;

import dev.thunderlink.proto.bulk.FileEntry;
import java.nio.file.Path;

/**
 * One local file to send.
 *
 * @param local the file
 * @param remotePath where it goes on the host
 * @param remote what the host has there (from {@link BulkSession#stat}), or null to send
 *     unconditionally; decides skip (same size, mtime, executable bit) and resume
 */
public record PushItem(Path local, String remotePath, FileEntry remote) {}
