/** The daemon's Prometheus metrics ({@link dev.thunderlink.daemon.metrics.Metrics}) and their localhost endpoint. */
package dev.thunderlink.daemon.metrics;
