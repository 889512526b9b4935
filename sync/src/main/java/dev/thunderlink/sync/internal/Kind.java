package dev.thunderlink.sync.internal;

/** What a path holds on one side. Absence is modelled as a {@code null} {@link Entry}. */
public enum Kind {
  FILE,
  DIRECTORY,
  SYMLINK
}
