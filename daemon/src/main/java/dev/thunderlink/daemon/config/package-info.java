/**
 * Configuration: {@code HOME/config.toml}, {@code THUNDERLINK_*} variables and flags merged
 * into an immutable {@link dev.thunderlink.daemon.config.ThunderlinkConfig} by
 * {@link dev.thunderlink.daemon.config.ConfigLoader}. Public: the records, the loader, its
 * result and exception; the schema ({@code Settings}, {@code Setting}) is package-private.
 */
package dev.thunderlink.daemon.config;
