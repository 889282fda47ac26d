package com.veltrix.config.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Keeps the deployment honest: every manifest parses, the kustomizations list every file, and the
 * probes, ports, drain times and security settings agree with the application's own configuration
 * (application.yaml) and the Dockerfile.
 */
class DeploymentManifestsTest {

  static final Path K8S = Path.of("k8s");

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    return (List<Object>) o;
  }

  /** Follows a path of map keys and list indexes. */
  static Object at(Object root, Object... path) {
    Object node = root;
    for (Object step : path) {
      assertThat(node).as("path " + List.of(path)).isNotNull();
      node = step instanceof Integer i ? list(node).get(i) : map(node).get(step);
    }
    return node;
  }

  static List<Map<String, Object>> documents(Path file) throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Object doc : new Yaml().loadAll(Files.readString(file))) {
      if (doc != null) {
        docs.add(map(doc));
      }
    }
    return docs;
  }

  static List<Map<String, Object>> all() throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    try (Stream<Path> files = Files.walk(K8S.resolve("base"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
        if (!f.getFileName().toString().equals("kustomization.yaml")) {
          docs.addAll(documents(f));
        }
      }
    }
    return docs;
  }

  static Map<String, Object> find(String kind, String name) throws IOException {
    return all().stream()
        .filter(d -> kind.equals(d.get("kind")) && name.equals(at(d, "metadata", "name")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
  }

  static Map<String, Object> application() throws IOException {
    return map(new Yaml().load(Files.readString(Path.of("src/main/resources/application.yaml"))));
  }

  static Map<String, Object> container(Map<String, Object> workload) {
    return map(at(workload, "spec", "template", "spec", "containers", 0));
  }

  static int containerPort(Map<String, Object> container, String name) {
    return list(container.get("ports")).stream()
        .map(DeploymentManifestsTest::map)
        .filter(p -> name.equals(p.get("name")))
        .map(p -> (Integer) p.get("containerPort"))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no port " + name));
  }

  @Test
  void everyManifestParsesAndHasKindAndName() throws IOException {
    List<Map<String, Object>> docs = all();

    assertThat(docs).hasSizeGreaterThan(10);
    for (Map<String, Object> d : docs) {
      assertThat(d).containsKeys("apiVersion", "kind", "metadata");
      assertThat(at(d, "metadata", "name")).isNotNull();
    }
  }

  @Test
  void eachKustomizationListsEveryFileBesideIt() throws IOException {
    for (Path dir : List.of(K8S.resolve("base"), K8S.resolve("overlays/production"))) {
      Map<String, Object> kustomization = documents(dir.resolve("kustomization.yaml")).get(0);
      List<String> listed = new ArrayList<>();
      list(kustomization.get("resources")).forEach(r -> listed.add((String) r));
      Object patches = kustomization.get("patches");
      if (patches != null) {
        list(patches).forEach(p -> listed.add((String) map(p).get("path")));
      }
      try (Stream<Path> files = Files.walk(dir)) {
        List<String> present =
            files
                .filter(p -> p.toString().endsWith(".yaml"))
                .map(p -> dir.relativize(p).toString())
                .filter(p -> !p.equals("kustomization.yaml"))
                .toList();
        assertThat(listed).as(dir + " lists every file").containsAll(present);
      }
      for (String entry : listed) {
        assertThat(Files.exists(dir.resolve(entry))).as(dir + " lists " + entry).isTrue();
      }
    }
  }

  @Test
  void probesAndPortsMatchTheApplicationsConfiguration() throws IOException {
    Map<String, Object> app = application();
    Map<String, Object> container = container(find("Deployment", "veltrix-config"));

    assertThat(containerPort(container, "http")).isEqualTo(at(app, "server", "port"));
    assertThat(containerPort(container, "grpc")).isEqualTo(at(app, "grpc", "server", "port"));
    assertThat(containerPort(container, "management"))
        .isEqualTo(at(app, "management", "server", "port"));
    assertThat(at(container, "livenessProbe", "httpGet", "path"))
        .isEqualTo("/actuator/health/liveness");
    assertThat(at(container, "startupProbe", "httpGet", "path"))
        .isEqualTo("/actuator/health/liveness");
    assertThat(at(container, "readinessProbe", "httpGet", "path"))
        .isEqualTo("/actuator/health/readiness");
    for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
      assertThat(at(container, probe, "httpGet", "port")).as(probe).isEqualTo("management");
    }
    assertThat(at(app, "management", "endpoint", "health", "probes", "enabled")).isEqualTo(true);
    assertThat((String) at(app, "management", "endpoint", "health", "group", "liveness", "include"))
        .as("liveness never looks at the database")
        .doesNotContain("db", "database");
  }

  @Test
  void podsRunAsNonRootReadOnlySpreadAcrossZonesAndDrainBeforeTheyDie() throws IOException {
    Map<String, Object> deployment = find("Deployment", "veltrix-config");
    Map<String, Object> pod = map(at(deployment, "spec", "template", "spec"));
    Map<String, Object> container = container(deployment);

    assertThat(at(pod, "securityContext", "runAsNonRoot")).isEqualTo(true);
    assertThat((Integer) at(pod, "securityContext", "runAsUser")).isPositive();
    assertThat(at(container, "securityContext", "readOnlyRootFilesystem")).isEqualTo(true);
    assertThat(at(container, "securityContext", "allowPrivilegeEscalation")).isEqualTo(false);
    assertThat(at(deployment, "spec", "replicas")).isEqualTo(3);
    assertThat(at(pod, "topologySpreadConstraints", 0, "topologyKey"))
        .isEqualTo("topology.kubernetes.io/zone");
    assertThat(at(container, "resources", "requests", "memory")).isNotNull();
    assertThat(at(container, "resources", "limits", "memory")).isNotNull();
    int preStop =
        Integer.parseInt((String) at(container, "lifecycle", "preStop", "exec", "command", 1));
    int grpcDrain = seconds((String) at(application(), "grpc", "server", "shutdown-grace-period"));
    assertThat((Integer) pod.get("terminationGracePeriodSeconds"))
        .as("grace period outlasts preStop and the gRPC drain")
        .isGreaterThan(preStop + grpcDrain);
  }

  @Test
  void servicesAndDisruptionBudgetsAreInPlace() throws IOException {
    assertThat(at(find("Service", "veltrix-config-grpc"), "spec", "clusterIP")).isEqualTo("None");
    assertThat(at(find("Service", "veltrix-config"), "spec", "type")).isEqualTo("ClusterIP");
    assertThat(at(find("Service", "veltrix-config"), "spec", "ports", 0, "targetPort"))
        .isEqualTo("http");
    assertThat(at(find("PodDisruptionBudget", "veltrix-config"), "spec", "minAvailable"))
        .isEqualTo(2);
    assertThat(at(find("PodDisruptionBudget", "cockroachdb"), "spec", "maxUnavailable"))
        .isEqualTo(1);
    assertThat(at(find("ConfigMap", "veltrix-config"), "data", "SPRING_DATASOURCE_URL"))
        .asString()
        .startsWith("jdbc:postgresql://cockroachdb-public:26257/veltrix");
  }

  @Test
  void cockroachDbSpreadsAcrossZonesReportsReadinessAndDrains() throws IOException {
    Map<String, Object> sts = find("StatefulSet", "cockroachdb");
    Map<String, Object> container = container(sts);

    assertThat(at(sts, "spec", "replicas")).isEqualTo(3);
    assertThat(at(container, "readinessProbe", "httpGet", "path")).isEqualTo("/health?ready=1");
    assertThat((Integer) at(sts, "spec", "template", "spec", "terminationGracePeriodSeconds"))
        .isGreaterThanOrEqualTo(60);
    assertThat(at(sts, "spec", "template", "spec", "topologySpreadConstraints", 0, "topologyKey"))
        .isEqualTo("topology.kubernetes.io/zone");
    assertThat(
            (String)
                at(
                    find("Job", "cockroachdb-init"),
                    "spec",
                    "template",
                    "spec",
                    "containers",
                    0,
                    "command",
                    2))
        .contains("cockroach init", "CREATE DATABASE IF NOT EXISTS veltrix");
  }

  @Test
  void cockroachDbKnowsItsZoneAndHasALicence() throws IOException {
    Map<String, Object> sts = find("StatefulSet", "cockroachdb");
    assertThat((String) at(container(sts), "command", 2)).contains("--locality=");
    assertThat((String) at(sts, "spec", "template", "spec", "initContainers", 0, "command", 2))
        .contains("topology\\.kubernetes\\.io/zone");
    Map<String, Object> init = find("Job", "cockroachdb-init");
    assertThat((String) at(init, "spec", "template", "spec", "containers", 0, "command", 2))
        .contains("enterprise.license", "cluster.organization");
    assertThat(
            at(
                init,
                "spec",
                "template",
                "spec",
                "containers",
                0,
                "env",
                1,
                "valueFrom",
                "secretKeyRef",
                "name"))
        .isEqualTo("cockroachdb-license");
    assertThat(
            at(
                find("ConfigMap", "veltrix-config"),
                "data",
                "SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE"))
        .isEqualTo("8");
  }

  @Test
  void istioBalancesByLocalityEjectsFailingPodsAndBoundsConnections() throws IOException {
    for (String name : List.of("veltrix-config", "veltrix-config-grpc")) {
      Map<String, Object> policy = map(at(find("DestinationRule", name), "spec", "trafficPolicy"));
      assertThat(at(policy, "loadBalancer", "localityLbSetting", "enabled")).isEqualTo(true);
      assertThat(at(policy, "outlierDetection", "consecutive5xxErrors")).isEqualTo(3);
      assertThat(at(policy, "outlierDetection", "interval")).isEqualTo("5s");
      assertThat(at(policy, "connectionPool", "tcp", "maxConnections")).isEqualTo(50);
      assertThat(at(policy, "connectionPool", "tcp", "idleTimeout")).isEqualTo("10s");
    }
    assertThat(list(at(find("VirtualService", "veltrix-config"), "spec", "hosts")))
        .contains("veltrix-config", "veltrix-config-grpc");
  }

  @Test
  void theImageIsMultiStageNonRootLayeredAndExposesTheThreePorts() throws IOException {
    String dockerfile = Files.readString(Path.of("Dockerfile"));
    List<String> lines = dockerfile.lines().map(String::trim).toList();

    assertThat(lines.stream().filter(l -> l.startsWith("FROM ")).count()).isEqualTo(2);
    assertThat(lines).anyMatch(l -> l.matches("FROM \\S+ AS build"));
    assertThat(lines).anyMatch(l -> l.contains("./mvnw") && l.contains("package"));
    assertThat(lines).contains("EXPOSE 8080 9090 8081");
    assertThat(dockerfile).contains("extract --layers", "MaxRAMPercentage", "JarLauncher");
    String user =
        lines.stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElseThrow();
    assertThat(Integer.parseInt(user.substring(5).split(":")[0]))
        .as("runs as non-root")
        .isPositive();
    assertThat(dockerfile).doesNotContain("zonky");
    assertThat(Files.readString(Path.of(".dockerignore"))).contains("target/");
  }

  static int seconds(String duration) {
    assertThat(duration).endsWith("s");
    return Integer.parseInt(duration.substring(0, duration.length() - 1));
  }
}
