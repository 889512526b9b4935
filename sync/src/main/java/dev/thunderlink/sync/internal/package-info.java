/**
 * Internal machinery of the mirror: scanner, index store, reconciler, applier, watcher and
 * the gRPC peer boundary. Nothing here is API; it may change without notice.
 */
package dev.thunderlink.sync.internal;
