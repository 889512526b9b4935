package dev.thunderlink.daemon.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Turns exceptions into the one line a person reads. */
final class CliErrors {
  private CliErrors() {}

  static String message(Throwable t) {
    if (t instanceof StatusRuntimeException sre) {
      Status s = sre.getStatus();
      if (s.getCode() == Status.Code.UNAVAILABLE && s.getDescription() == null) {
        return "the daemon did not answer (" + (s.getCause() == null ? "unavailable" : s.getCause().getMessage()) + ")";
      }
      return s.getDescription() != null ? s.getDescription() : s.getCode().toString();
    }
    String m = t.getMessage();
    return m == null ? t.toString() : m;
  }
}
