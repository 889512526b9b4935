package dev.thunderlink.daemon.logs;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;

/**
 * Logging of the {@code thunderlink} command in the foreground, set up in code: what
 * {@code logback.xml} says, without logback's XML configurator. That configurator loads some
 * 480 classes and parses the file on every start, ~0.2 s of CPU in each short command (a
 * one-byte {@code cp} takes ~1.1 s in all); this costs ~0.02 s.
 *
 * <p>Found by logback through {@code META-INF/services}. It applies only when {@code Main} has
 * run (it sets {@code thunderlink.log.level}) and no {@code logback.configurationFile} is given
 * (the service's {@code logback-service.xml}); anything else — tests, the benchmarks' own JVMs,
 * an embedding — falls through to logback's usual search and {@code logback.xml}.
 */
public final class ConsoleLogging extends ContextAwareBase implements Configurator {
  static final String LEVEL_PROPERTY = "thunderlink.log.level";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    String level = System.getProperty(LEVEL_PROPERTY);
    if (level == null || System.getProperty("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    Line layout = new Line(ZoneId.systemDefault());
    layout.setContext(context);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.start();
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("CONSOLE");
    console.setTarget("System.err");
    console.setEncoder(encoder);
    console.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(level, Level.INFO));
    root.addAppender(console);
    context.getLogger("io.netty").setLevel(Level.WARN);
    context.getLogger("io.grpc").setLevel(Level.WARN);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** {@code %d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n}, then the stack trace if any. */
  static final class Line extends LayoutBase<ILoggingEvent> {
    private final ZoneId zone;

    Line(ZoneId zone) {
      this.zone = zone;
    }

    @Override
    public String doLayout(ILoggingEvent e) {
      LocalTime t = LocalTime.ofInstant(Instant.ofEpochMilli(e.getTimeStamp()), zone);
      StringBuilder b = new StringBuilder(128);
      pad(b, t.getHour(), 2).append(':');
      pad(b, t.getMinute(), 2).append(':');
      pad(b, t.getSecond(), 2).append('.');
      pad(b, t.getNano() / 1_000_000, 3).append(' ');
      String level = e.getLevel().toString();
      b.append(level).append(" ".repeat(Math.max(0, 5 - level.length()))).append(' ');
      String logger = e.getLoggerName();
      b.append(logger, logger.lastIndexOf('.') + 1, logger.length()).append(" - ");
      b.append(e.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
      IThrowableProxy thrown = e.getThrowableProxy();
      if (thrown != null) {
        b.append(ThrowableProxyUtil.asString(thrown)); // ends with a line separator
      }
      return b.toString();
    }

    private static StringBuilder pad(StringBuilder b, int value, int width) {
      String s = Integer.toString(value);
      return b.append("0".repeat(Math.max(0, width - s.length()))).append(s);
    }
  }
}
