/**
 * Running as a service and stopping cleanly: launchd agents and systemd user units
 * ({@link dev.thunderlink.daemon.service.ServiceManager}), and the shutdown order
 * ({@link dev.thunderlink.daemon.service.ShutdownCoordinator},
 * {@link dev.thunderlink.daemon.service.InFlightWork}).
 */
package dev.thunderlink.daemon.service;
