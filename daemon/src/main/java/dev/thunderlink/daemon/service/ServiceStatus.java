package dev.thunderlink.daemon.service;

import java.nio.file.Path;

/**
 * What {@code service status} reports for one role.
 *
 * @param role serve or connect
 * @param manager launchd or systemd
 * @param definition the plist or unit file
 * @param installed whether that file exists
 * @param loaded whether the service manager knows the service
 * @param state the manager's word for it ({@code running}, {@code active/running}, {@code not loaded}, ...)
 * @param pid the daemon's process id, 0 when none
 */
public record ServiceStatus(
    String role, String manager, Path definition, boolean installed, boolean loaded, String state, long pid) {
  public String toText() {
    return role + " (" + manager + "): "
        + (installed ? "installed at " + definition : "not installed")
        + (loaded ? ", " + state + (pid > 0 ? ", pid " + pid : "") : ", not loaded");
  }
}
