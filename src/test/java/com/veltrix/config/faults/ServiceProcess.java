package com.veltrix.config.faults;

import com.veltrix.config.VeltrixConfigApplication;
import com.veltrix.config.support.ChildJvm;
import com.veltrix.config.support.FreePort;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One instance of the service in a JVM of its own, so that it can be killed as Kubernetes kills a
 * pod that does not stop, or as a node dies: SIGKILL, no shutdown hook, no FIN for what it did not
 * finish sending.
 */
final class ServiceProcess extends Instance {

  private final Process process;
  final Path log;

  ServiceProcess(String name, String jdbcUrl, String stableFor, Map<String, Object> more) {
    this(name, jdbcUrl, stableFor, more, "256m");
  }

  ServiceProcess(
      String name, String jdbcUrl, String stableFor, Map<String, Object> more, String heap) {
    // C1 only: starts in seconds on two cores
    this(name, jdbcUrl, stableFor, more, List.of("-Xmx" + heap, "-XX:TieredStopAtLevel=1"));
  }

  ServiceProcess(
      String name, String jdbcUrl, String stableFor, Map<String, Object> more, List<String> jvm) {
    super(name, FreePort.find());
    int restPort = FreePort.find();
    int managementPort = FreePort.find();
    Map<String, Object> properties = properties(jdbcUrl, stableFor, grpcPort);
    properties.put("server.port", restPort);
    properties.put("management.server.port", managementPort);
    properties.putAll(more);
    List<String> command = ChildJvm.java();
    command.addAll(jvm);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(VeltrixConfigApplication.class.getName());
    command.addAll(List.of(arguments(properties)));
    try {
      log = Files.createTempFile("veltrix-" + name, ".log");
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    connect(restPort, managementPort);
  }

  ProcessHandle handle() {
    return process.toHandle();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: the process ends at once, mid-whatever it was doing. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
