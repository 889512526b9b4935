package dev.thunderlink.inference;

import java.time.Duration;

/**
 * Told about each request's scheduling and first token, for metrics. Register one with
 * {@link InferenceHost#observe}.
 *
 * <p>Called on the scheduler thread ({@link #queueWait}) and on the upstream client's threads
 * ({@link #firstToken}); implementations must be thread-safe and must not block. An exception
 * thrown here is logged and otherwise ignored.
 */
public interface InferenceObserver {
  /** Does nothing. */
  InferenceObserver NONE = new InferenceObserver() {};

  /**
   * A request left the scheduler's queue for its upstream.
   *
   * @param requestClass {@code interactive} or {@code batch}
   * @param waited from the request entering the scheduler to its dispatch
   */
  default void queueWait(String model, String requestClass, Duration waited) {}

  /**
   * The first streamed chunk of a chat or generate request came back from the upstream.
   *
   * @param sinceArrival from the request reaching the host's inference service (before model
   *     lookup, queueing and any model load) to that chunk arriving from the upstream
   */
  default void firstToken(String model, String requestClass, Duration sinceArrival) {}
}
