/**
 * A user-space link emulator: a TCP relay that imposes a {@link
 * dev.thunderlink.transport.emulator.LinkProfile} (rate, one-way delay, jitter) between a listen
 * address and a target, and can be cut and restored like a pulled cable.
 *
 * <p>Used by benchmarks to produce Thunderbolt/Wi-Fi pairs on one machine, by {@code thunderlink
 * bench --emulate}, and by failover tests of every module. Public API: {@link
 * dev.thunderlink.transport.emulator.LinkEmulator}, {@link
 * dev.thunderlink.transport.emulator.LinkProfile}, {@link
 * dev.thunderlink.transport.emulator.LinkStats}; everything else is package-private.
 */
package dev.thunderlink.transport.emulator;
