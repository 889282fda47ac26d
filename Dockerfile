# syntax=docker/dockerfile:1
# veltrix-config: build with the wrapper, run the layered jar on a JRE as a non-root user.
#   docker build -t veltrix-config:0.1.0 .
#   docker run -p 8080:8080 -p 9090:9090 -p 8081:8081 \
#     -e SPRING_DATASOURCE_URL=jdbc:postgresql://db:26257/veltrix -e SPRING_DATASOURCE_USERNAME=root \
#     veltrix-config:0.1.0
# The image never contains the embedded PostgreSQL: it is a test dependency (the build enforces it).

FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -q dependency:go-offline -Dspotless.check.skip=true
COPY src src
COPY db db
# Extracted as the JVM's AOT cache needs it: the application as veltrix-config.jar, its
# dependencies as plain jars in lib/ (a cache holds classes loaded from jar files only)
RUN ./mvnw -B -q package -DskipTests -Dspotless.check.skip=true \
 && cp target/veltrix-config-*.jar target/veltrix-config.jar \
 && java -Djarmode=tools -jar target/veltrix-config.jar extract --layers --destination target/extracted

FROM eclipse-temurin:25-jre
RUN groupadd --system --gid 10001 veltrix \
 && useradd --system --uid 10001 --gid veltrix --no-create-home --shell /usr/sbin/nologin veltrix
WORKDIR /app
# Layers from least to most often changed, so a code change rebuilds only the last one.
COPY --from=build /src/target/extracted/dependencies/ ./
COPY --from=build /src/target/extracted/spring-boot-loader/ ./
COPY --from=build /src/target/extracted/snapshot-dependencies/ ./
COPY --from=build /src/target/extracted/application/ ./
# Heap sized from the container's memory limit, 60 % of it: the JVM's own memory (G1's, the code,
# metaspace, threads) took ~250 MiB more under load, so at 75 % a 1 GiB pod reached 1,041 MiB
# resident with its heap full; crash (and let Kubernetes restart) on OOM. G1 by name: with under
# 1,792 MiB (the base Deployment's limit is 1 GiB) or one CPU the JVM would pick the Serial
# collector, single-threaded and stop-the-world, which nothing here was measured with.
ENV JAVA_TOOL_OPTIONS="-XX:+UseG1GC -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError -Djava.io.tmpdir=/tmp"
# The AOT cache (JDK 25: JEP 483, 514, 515): the classes a start loads, linked, and their profiles,
# written by a training run on this image's own JVM (a cache made by another JDK build is ignored)
# that starts the application context and exits before the servers start. Its settings only get it
# through the start-up checks: nothing is contacted but the database, which is refused, and the
# service starts without it as it would in a pod. With the cache the JVM starts the service in
# 6.0-6.9 s instead of 9.4-10.9 with ~30 % less CPU (docs/performance.md, "A pod's start with an
# AOT cache").
RUN java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
      -XX:AOTCacheOutput=veltrix-config.aot -Dspring.context.exit=onRefresh -jar veltrix-config.jar \
      --spring.datasource.url=jdbc:postgresql://127.0.0.1:9/training-run \
      --spring.security.oauth2.resourceserver.jwt.jwk-set-uri=http://127.0.0.1:9/training-run \
      --spring.security.oauth2.resourceserver.jwt.audiences=training-run \
      --veltrix.security.page-token-key=training-run-only-never-a-real-key-0123456789
USER 10001:10001
# REST, gRPC, management (Actuator)
EXPOSE 8080 9090 8081
# grpc-netty-shaded uses sun.misc.Unsafe and loads a native library: allowed, so that Java 25 does
# not print WARNING lines (plain text) among the JSON logs at start
ENTRYPOINT ["java", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", \
  "-XX:AOTCache=veltrix-config.aot", "-jar", "veltrix-config.jar"]
