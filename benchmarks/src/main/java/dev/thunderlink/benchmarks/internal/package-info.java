/**
 * The servers the benchmarks talk to (raw echo, bulk sink; the real link in one process, {@code LinkPair}; the byte sink for gRPC streaming) and the choice between an
 * emulated link and a real peer. Not an API: only the benchmarks and {@code PeerServer} use it.
 */
package dev.thunderlink.benchmarks.internal;
