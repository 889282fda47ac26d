package com.veltrix.config.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.security.StartupRequirements;
import com.veltrix.config.support.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
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

  static final List<Path> KUSTOMIZATIONS =
      List.of(
          K8S.resolve("base"),
          K8S.resolve("components/cockroachdb"),
          K8S.resolve("components/istio"),
          K8S.resolve("overlays/production"));

  /** Every manifest of the base and the components (not the overlay's patches). */
  static List<Map<String, Object>> all() throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Path dir : KUSTOMIZATIONS.subList(0, 3)) {
      docs.addAll(manifests(dir));
    }
    return docs;
  }

  static List<Map<String, Object>> manifests(Path dir) throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        String name = f.getFileName().toString();
        if (!name.equals("kustomization.yaml") && !name.endsWith("-patch.yaml")) {
          docs.addAll(documents(f));
        }
      }
    }
    return docs;
  }

  /** The settings the base generates its ConfigMap from (KEY=VALUE, # comments). */
  static Map<String, String> config() throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : Files.readAllLines(K8S.resolve("base/config.env"))) {
      if (!line.isBlank() && !line.startsWith("#")) {
        int eq = line.indexOf('=');
        env.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return env;
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
    for (Path dir : KUSTOMIZATIONS) {
      Map<String, Object> kustomization = documents(dir.resolve("kustomization.yaml")).get(0);
      List<String> listed = new ArrayList<>();
      list(kustomization.get("resources")).forEach(r -> listed.add((String) r));
      Object components = kustomization.get("components");
      if (components != null) {
        list(components).forEach(c -> listed.add((String) c));
      }
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
    assertThat(config().get("SPRING_DATASOURCE_URL"))
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
    assertThat(config().get("SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE")).isEqualTo("8");
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
    assertThat(dockerfile).contains("extract --layers", "MaxRAMPercentage");
    // the AOT cache: written by a training run in the image, read by every start of it
    assertThat(dockerfile).contains("-XX:AOTCacheOutput=veltrix-config.aot");
    String entrypoint =
        lines.stream().dropWhile(l -> !l.startsWith("ENTRYPOINT ")).collect(Collectors.joining());
    assertThat(entrypoint)
        .contains("\"-XX:AOTCache=veltrix-config.aot\", \"-jar\", \"veltrix-config.jar\"");
    String user =
        lines.stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElseThrow();
    assertThat(Integer.parseInt(user.substring(5).split(":")[0]))
        .as("runs as non-root")
        .isPositive();
    assertThat(dockerfile).doesNotContain("zonky");
    assertThat(Files.readString(Path.of(".dockerignore"))).contains("target/");
  }

  /**
   * The image names its collector. In a container with less than 1,792 MiB of memory (the
   * Deployment's limit is 1 GiB) or a single CPU, the JVM's ergonomics take it for a client machine
   * and choose the Serial collector: single-threaded and stop-the-world, and measured by nothing
   * here (every benchmark and fault run used G1). {@code -XX:+NeverActAsServerClassMachine} makes
   * the JVM take that branch on this machine too; the options are the image's, passed as the image
   * passes them.
   */
  @Test
  void theImagesJvmKeepsTheMeasuredCollectorInASmallContainer() throws Exception {
    Matcher options =
        Pattern.compile("ENV JAVA_TOOL_OPTIONS=\"([^\"]*)\"")
            .matcher(Files.readString(Path.of("Dockerfile")));
    assertThat(options.find()).as("the image's JAVA_TOOL_OPTIONS").isTrue();
    List<String> command = ChildJvm.java();
    command.addAll(List.of("-XX:+NeverActAsServerClassMachine", "-Xlog:gc", "-version"));
    ProcessBuilder java = new ProcessBuilder(command).redirectErrorStream(true);
    java.environment().put("JAVA_TOOL_OPTIONS", options.group(1));
    Process process = java.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(output).contains("Using G1").doesNotContain("Using Serial");
  }

  @Test
  void theBaseAppliesOnAPlainClusterAndIstioAndCockroachDbAreOptIn() throws IOException {
    List<Object> kinds = manifests(K8S.resolve("base")).stream().map(d -> d.get("kind")).toList();
    assertThat(kinds)
        .doesNotContain("VirtualService", "DestinationRule", "StatefulSet", "Job")
        .contains("Deployment", "Service", "NetworkPolicy", "ServiceAccount");
    for (String component : List.of("cockroachdb", "istio")) {
      Map<String, Object> kustomization =
          documents(K8S.resolve("components/" + component + "/kustomization.yaml")).get(0);
      assertThat(kustomization.get("kind")).isEqualTo("Component");
    }
    assertThat(
            list(
                documents(K8S.resolve("overlays/production/kustomization.yaml"))
                    .get(0)
                    .get("components")))
        .containsExactly("../../components/cockroachdb", "../../components/istio");
    assertThat(at(find("Deployment", "veltrix-config"), "spec", "template", "metadata"))
        .asString()
        .as("the Istio annotation comes with the component")
        .doesNotContain("proxy.istio.io");
  }

  @Test
  void networkPoliciesOpenOnlyWhatEachPodServes() throws IOException {
    Map<String, Object> veltrix = map(find("NetworkPolicy", "veltrix-config").get("spec"));
    assertThat(list(veltrix.get("policyTypes"))).containsExactly("Ingress", "Egress");
    Map<String, Object> open = map(at(veltrix, "ingress", 0));
    assertThat(open).doesNotContainKey("from");
    assertThat(list(open.get("ports")).stream().map(p -> map(p).get("port")))
        .containsExactly("http", "grpc");
    Map<String, Object> management = map(at(veltrix, "ingress", 1));
    assertThat(at(management, "ports", 0, "port")).isEqualTo("management");
    assertThat(at(management, "from", 0, "namespaceSelector")).isNotNull();

    Map<String, Object> cockroach = map(find("NetworkPolicy", "cockroachdb").get("spec"));
    assertThat(at(cockroach, "ingress", 0, "ports", 0, "port")).isEqualTo(26257);
    assertThat(list(at(cockroach, "ingress", 0, "from")).toString())
        .contains("veltrix-config", "cockroachdb", "cockroachdb-init")
        .doesNotContain("namespaceSelector");
  }

  @Test
  void podsCarryNoServiceAccountTokenAndBudgetsLetUnreadyPodsGo() throws IOException {
    Map<String, Object> pod = map(at(find("Deployment", "veltrix-config"), "spec", "template"));
    assertThat(at(pod, "spec", "automountServiceAccountToken")).isEqualTo(false);
    assertThat(at(find("ServiceAccount", "veltrix-config"), "automountServiceAccountToken"))
        .isEqualTo(false);
    assertThat(
            at(
                find("Job", "cockroachdb-init"),
                "spec",
                "template",
                "spec",
                "automountServiceAccountToken"))
        .isEqualTo(false);
    for (String name : List.of("veltrix-config", "cockroachdb")) {
      assertThat(at(find("PodDisruptionBudget", name), "spec", "unhealthyPodEvictionPolicy"))
          .as(name)
          .isEqualTo("AlwaysAllow");
    }
  }

  @Test
  void configurationAndSecretChangesRollThePodsAndTheJvmKnowsItsCpus() throws IOException {
    Map<String, Object> base = documents(K8S.resolve("base/kustomization.yaml")).get(0);
    assertThat(at(base, "configMapGenerator", 0, "name")).isEqualTo("veltrix-config");
    assertThat(at(base, "configMapGenerator", 0).toString())
        .doesNotContain("disableNameSuffixHash");
    Map<String, Object> overlay =
        documents(K8S.resolve("overlays/production/kustomization.yaml")).get(0);
    assertThat(list(overlay.get("secretGenerator")).stream().map(g -> map(g).get("name")))
        .containsExactlyInAnyOrder("veltrix-db", "veltrix-auth");
    assertThat(overlay.get("secretGenerator").toString()).doesNotContain("disableNameSuffixHash");
    assertThat(Files.readString(K8S.resolve("overlays/production/.gitignore")))
        .contains("page-token.key");
    assertThat(config().get("JDK_JAVA_OPTIONS")).contains("-XX:ActiveProcessorCount=");
  }

  @Test
  void theDeploymentHasWhatAProductionProcessNeedsToStart() throws IOException {
    Map<String, Object> variables = new HashMap<>(config());
    for (Object e : list(container(find("Deployment", "veltrix-config")).get("env"))) {
      variables.put((String) map(e).get("name"), "a-secret-value-of-more-than-32-bytes-0123456789");
    }
    var environment = new StandardEnvironment();
    environment
        .getPropertySources()
        .replace(
            "systemEnvironment",
            new SystemEnvironmentPropertySource("systemEnvironment", variables));

    new StartupRequirements().postProcessEnvironment(environment, new SpringApplication());
    assertThat(variables).doesNotContainKey("VELTRIX_SECURITY_JWT_HMAC_SECRET");
  }

  static int seconds(String duration) {
    assertThat(duration).endsWith("s");
    return Integer.parseInt(duration.substring(0, duration.length() - 1));
  }
}
