package com.veltrix.config.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The start of a command line that runs a class in a JVM of its own, on the JDK running the tests.
 * From JDK 24 on, grpc-netty-shaded's use of {@code sun.misc.Unsafe} and its native library loading
 * print {@code WARNING:} lines on stderr at start (JEP 471/498, JEP 472); the container image
 * allows both in its entry point, and so do these JVMs, so that their output is the service's own
 * (JSON logs stay JSON).
 */
public final class ChildJvm {

  private ChildJvm() {}

  /** {@code java} and the options above; the caller adds its own options, then the class. */
  public static List<String> java() {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (Runtime.version().feature() >= 24) {
      command.add("--enable-native-access=ALL-UNNAMED");
      command.add("--sun-misc-unsafe-memory-access=allow");
    }
    return command;
  }

  /**
   * The JVM options in system property {@code property}, separated by white space (none when it is
   * unset), e.g. {@code -Dbench.service-jvm-args="-XX:StartFlightRecording=filename=v.jfr"}.
   */
  public static List<String> optionsFrom(String property) {
    String options = System.getProperty(property, "").strip();
    return options.isEmpty() ? List.of() : List.of(options.split("\\s+"));
  }
}
