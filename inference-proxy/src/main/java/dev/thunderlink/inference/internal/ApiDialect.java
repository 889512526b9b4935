package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** The three HTTP APIs and how each one spells an error. Stateless. */
public enum ApiDialect {
  OLLAMA, OPENAI, ANTHROPIC;

  public static ApiDialect of(String path) {
    if (path.startsWith("/v1/messages")) {
      return ANTHROPIC;
    }
    return path.startsWith("/v1/") ? OPENAI : OLLAMA;
  }

  public ObjectNode error(int status, String message) {
    ObjectNode o = OllamaJson.object();
    switch (this) {
      case OLLAMA -> o.put("error", message);
      case OPENAI -> {
        ObjectNode e = o.putObject("error");
        e.put("message", message);
        e.put("type", status == 401 ? "authentication_error" : status == 404 ? "not_found_error"
            : status / 100 == 4 ? "invalid_request_error" : "api_error");
        e.putNull("param");
        e.putNull("code");
      }
      default -> {
        o.put("type", "error");
        ObjectNode e = o.putObject("error");
        e.put("type", switch (status) {
          case 400, 413 -> status == 413 ? "request_too_large" : "invalid_request_error";
          case 401 -> "authentication_error";
          case 403 -> "permission_error";
          case 404 -> "not_found_error";
          case 429 -> "rate_limit_error";
          case 503 -> "overloaded_error";
          default -> "api_error";
        });
        e.put("message", message);
      }
    }
    return o;
  }
}
