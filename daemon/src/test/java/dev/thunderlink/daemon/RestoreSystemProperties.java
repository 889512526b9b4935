package dev.thunderlink.daemon;

import java.util.Properties;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Puts the JVM's system properties back as they were before each test ({@code @ExtendWith}). */
public final class RestoreSystemProperties implements BeforeEachCallback, AfterEachCallback {
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(RestoreSystemProperties.class);

  @Override
  public void beforeEach(ExtensionContext context) {
    Properties saved = new Properties();
    saved.putAll(System.getProperties());
    context.getStore(NS).put("saved", saved);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Properties saved = context.getStore(NS).get("saved", Properties.class);
    Properties now = System.getProperties(); // the same object: other threads may hold it
    now.keySet().removeIf(k -> !saved.containsKey(k));
    now.putAll(saved);
  }
}
