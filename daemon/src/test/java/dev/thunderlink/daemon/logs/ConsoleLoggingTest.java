package dev.thunderlink.daemon.logs;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.time.ZoneId;
import java.util.ServiceLoader;
import dev.thunderlink.daemon.RestoreSystemProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RestoreSystemProperties.class)
class ConsoleLoggingTest {
  @Test
  void logbackFindsItAsAService() {
    assertThat(ServiceLoader.load(Configurator.class).stream().map(ServiceLoader.Provider::type))
        .contains(ConsoleLogging.class);
  }

  @Test
  void theCommandsLevelAndTheQuietLibrariesAreSetInCode() {
    System.setProperty(ConsoleLogging.LEVEL_PROPERTY, "WARN");
    System.clearProperty("logback.configurationFile");
    LoggerContext context = new LoggerContext();
    assertThat(new ConsoleLogging().configure(context)).isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.WARN);
    assertThat(root.getAppender("CONSOLE")).isNotNull();
    assertThat(context.getLogger("io.netty").getLevel()).isEqualTo(Level.WARN);
    assertThat(context.getLogger("io.grpc").getLevel()).isEqualTo(Level.WARN);
  }

  @Test
  void theServicesConfigurationFileAndRunsWithoutMainAreLeftToLogback() {
    System.setProperty(ConsoleLogging.LEVEL_PROPERTY, "INFO");
    System.setProperty("logback.configurationFile", "logback-service.xml");
    LoggerContext withFile = new LoggerContext();
    assertThat(new ConsoleLogging().configure(withFile)).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(withFile.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();

    System.clearProperty("logback.configurationFile");
    System.clearProperty(ConsoleLogging.LEVEL_PROPERTY);
    assertThat(new ConsoleLogging().configure(new LoggerContext()))
        .isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
  }

  @Test
  void aLineReadsAsLogbackXmlsPatternWrotIt() {
    LoggerContext context = new LoggerContext();
    PatternLayout pattern = new PatternLayout();
    pattern.setContext(context);
    pattern.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n");
    pattern.start();
    ConsoleLogging.Line line = new ConsoleLogging.Line(ZoneId.systemDefault());
    line.setContext(context);
    line.start();
    Logger logger = context.getLogger("dev.thunderlink.sync.internal.SessionEngine");
    LoggingEvent plain = new LoggingEvent("x", logger, Level.INFO, "cycle {} in {} ms", null, new Object[] {3, 45});
    plain.setTimeStamp(1_795_000_007_089L);
    IllegalStateException thrown = new IllegalStateException("disk full", new java.io.IOException("ENOSPC"));
    LoggingEvent failed = new LoggingEvent("x", logger, Level.WARN, "gave up", thrown, null);

    assertThat(line.doLayout(plain)).isEqualTo(pattern.doLayout(plain)).contains("INFO  SessionEngine - cycle 3 in 45 ms");
    assertThat(line.doLayout(failed)).isEqualTo(pattern.doLayout(failed)).contains("Caused by: java.io.IOException: ENOSPC");
  }
}
