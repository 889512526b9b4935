/**
 * Internal parts of the inference proxy: the simulator engine, the upstream adapters, the
 * scheduler's machinery, the HTTP fronts' translators. Not an API: may change at any time.
 */
package dev.thunderlink.inference.internal;
