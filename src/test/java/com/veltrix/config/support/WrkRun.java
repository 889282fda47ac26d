package com.veltrix.config.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of wrk whose Lua script prints its figures in one line when it is done: the benchmarks'
 * point reads and the write benchmark's writers.
 */
public final class WrkRun {

  private WrkRun() {}

  /**
   * Runs {@code binary} with {@code arguments} and {@code -d<seconds>s}, its output in {@code out},
   * and returns the match of {@code figures} in that output; fails when wrk does not end within 30
   * s of its duration, exits with an error or prints no figures.
   */
  public static Matcher run(
      String binary, List<String> arguments, long seconds, Path out, Pattern figures)
      throws IOException {
    List<String> command = new ArrayList<>(List.of(binary, "-d" + seconds + "s"));
    command.addAll(arguments);
    Process wrk =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    try {
      if (!wrk.waitFor(seconds + 30, TimeUnit.SECONDS)) {
        wrk.destroyForcibly();
        throw new IllegalStateException("wrk did not finish in " + (seconds + 30) + " s");
      }
    } catch (InterruptedException e) {
      wrk.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    String printed = Files.readString(out);
    Matcher m = figures.matcher(printed);
    if (wrk.exitValue() != 0 || !m.find()) {
      throw new IllegalStateException("wrk exited " + wrk.exitValue() + ": " + printed);
    }
    return m;
  }
}
