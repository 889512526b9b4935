package dev.thunderlink.daemon.service;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Records every command and answers with canned results (exit 0, no output unless told). */
final class RecordingCommandRunner implements CommandRunner {
  final List<List<String>> commands = new ArrayList<>();
  private final Map<String, Result> answers = new HashMap<>();

  /** Answers commands whose words joined by spaces start with {@code prefix}. */
  RecordingCommandRunner answer(String prefix, int exit, String output) {
    answers.put(prefix, new Result(exit, output));
    return this;
  }

  @Override
  public Result run(List<String> command) {
    commands.add(List.copyOf(command));
    String line = String.join(" ", command);
    return answers.entrySet().stream()
        .filter(e -> line.startsWith(e.getKey()))
        .map(Map.Entry::getValue)
        .findFirst()
        .orElse(new Result(0, ""));
  }
}
