package dev.thunderlink.sync.internal;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.function.Supplier;

/**
 * A test's hook around every call on a real {@link Endpoint}: to time a call, fail one, or change
 * the tree while the engine waits on it. The endpoint is asked for at each call, so that a test
 * can put a reopened one in its place (a restart).
 */
@FunctionalInterface
interface EndpointHook {
  /** The call on the endpoint, unchanged; an exception it throws is the endpoint's own, not a reflective wrapper. */
  @FunctionalInterface
  interface Call {
    Object proceed() throws Throwable;
  }

  /** Handles the call of {@code method} with {@code args} (which it may change before {@code call.proceed()}). */
  Object handle(String method, Object[] args, Call call) throws Throwable;

  /** An endpoint whose every call goes through {@code hook} to {@code target.get()}. */
  static Endpoint around(Supplier<? extends Endpoint> target, EndpointHook hook) {
    return (Endpoint) Proxy.newProxyInstance(Endpoint.class.getClassLoader(), new Class<?>[] {Endpoint.class},
        (proxy, m, args) -> hook.handle(m.getName(), args, () -> {
          try {
            return m.invoke(target.get(), args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        }));
  }
}
