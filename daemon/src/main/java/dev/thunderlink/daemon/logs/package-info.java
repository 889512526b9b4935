/** Reading the service's rolling log files: {@code thunderlink logs [-f] [--since]}. */
package dev.thunderlink.daemon.logs;
