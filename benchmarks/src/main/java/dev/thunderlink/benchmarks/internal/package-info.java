/**
 * The servers the benchmarks talk to (echo, bulk sink, gRPC ping) and the choice between an
 * emulated link and a real peer. Not an API: only the benchmarks and {@code PeerServer} use it.
 */
package dev.thunderlink.benchmarks.internal;
