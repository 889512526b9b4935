package dev.thunderlink.sync.internal;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.sync.EntryKind;

/** Converts entries between the engine's records and the wire messages. Stateless. */
final class ProtoCodec {
  private ProtoCodec() {}

  static dev.thunderlink.proto.sync.Entry toProto(String path, Entry e) {
    dev.thunderlink.proto.sync.Entry.Builder b = dev.thunderlink.proto.sync.Entry.newBuilder().setPath(path);
    if (e == null) {
      return b.setKind(EntryKind.ABSENT).build();
    }
    switch (e.kind()) {
      case FILE:
        b.setKind(EntryKind.FILE).setHash(ByteString.copyFrom(ContentHash.bytes(e.hash()))).setSize(e.size())
            .setExecutable(e.executable());
        break;
      case DIRECTORY:
        b.setKind(EntryKind.DIRECTORY);
        break;
      default:
        b.setKind(EntryKind.SYMLINK).setSymlinkTarget(e.target());
    }
    return b.setMtimeMillis(e.mtimeMillis()).build();
  }

  static Entry fromProto(dev.thunderlink.proto.sync.Entry p) {
    switch (p.getKind()) {
      case FILE:
        return Entry.file(ContentHash.hex(p.getHash().toByteArray()), p.getSize(), p.getExecutable(),
            p.getMtimeMillis());
      case DIRECTORY:
        return Entry.directory();
      case SYMLINK:
        return Entry.symlink(p.getSymlinkTarget());
      case ABSENT:
        return null;
      default:
        throw new IllegalArgumentException("entry kind: " + p.getKind() + " (expected: ABSENT, FILE, DIRECTORY, SYMLINK)");
    }
  }
}
