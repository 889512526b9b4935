package dev.thunderlink.sync.internal;

import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * The logger handed to directory-watcher. In 0.19.1 an inotify OVERFLOW event makes the
 * library throw (a NullPointerException inside its event handler) before our listener hears
 * of it, and it reports that only as a debug log line; the events dropped by the overflow are
 * then lost for good. This tap sees that line (and the OVERFLOW event itself) and triggers a
 * full rescan, then forwards everything to the real logger at the level it has enabled.
 *
 * <p>Threads: called on the library's watch thread.
 */
final class WatchLogTap extends LegacyAbstractLogger {
  private static final long serialVersionUID = 1L;

  private final transient Logger delegate;
  private final transient Runnable onTrouble;

  WatchLogTap(Logger delegate, Runnable onTrouble) {
    this.delegate = delegate;
    this.onTrouble = onTrouble;
    this.name = delegate.getName();
  }

  @Override
  public boolean isTraceEnabled() {
    return false;
  }

  @Override
  public boolean isDebugEnabled() {
    return true; // the library reports its failures only at debug level
  }

  @Override
  public boolean isInfoEnabled() {
    return true;
  }

  @Override
  public boolean isWarnEnabled() {
    return true;
  }

  @Override
  public boolean isErrorEnabled() {
    return true;
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
      Throwable t) {
    String msg = pattern == null ? "" : pattern;
    boolean overflow = msg.startsWith("DirectoryWatcher got an exception")
        || (args != null && args.length > 0 && String.valueOf(args[0]).equals("OVERFLOW"));
    if (overflow) {
      onTrouble.run();
    }
    if (delegate.isEnabledForLevel(level)) {
      delegate.atLevel(level).setCause(t).log(MessageFormatter.basicArrayFormat(msg, args));
    }
  }
}
