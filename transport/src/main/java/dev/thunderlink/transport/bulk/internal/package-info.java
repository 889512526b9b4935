/**
 * Internal to the bulk plane: the frame codec, the connection (event loop + disk thread),
 * file sender and receiver, host sessions and the control service. Not an API: may change
 * in any release; use {@link dev.thunderlink.transport.bulk} instead.
 */
package dev.thunderlink.transport.bulk.internal;
