package dev.thunderlink.daemon.config;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One effective setting as {@code config show} reports it.
 *
 * @param key the dotted TOML key, e.g. {@code tuning.wifi.send_buffer_bytes}
 * @param value the effective value, normalized, as JSON
 * @param source which layer supplied it
 * @param origin the file, environment variable or flag that supplied it ({@code built-in} for defaults)
 */
public record EffectiveValue(String key, JsonNode value, ConfigSource source, String origin) {}
