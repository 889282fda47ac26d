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
RUN ./mvnw -B -q package -DskipTests -Dspotless.check.skip=true \
 && java -Djarmode=tools -jar target/veltrix-config-*.jar extract --layers --launcher --destination target/extracted

FROM eclipse-temurin:25-jre
RUN groupadd --system --gid 10001 veltrix \
 && useradd --system --uid 10001 --gid veltrix --no-create-home --shell /usr/sbin/nologin veltrix
WORKDIR /app
# Layers from least to most often changed, so a code change rebuilds only the last one.
COPY --from=build /src/target/extracted/dependencies/ ./
COPY --from=build /src/target/extracted/spring-boot-loader/ ./
COPY --from=build /src/target/extracted/snapshot-dependencies/ ./
COPY --from=build /src/target/extracted/application/ ./
USER 10001:10001
# REST, gRPC, management (Actuator)
EXPOSE 8080 9090 8081
# Heap sized from the container's memory limit; crash (and let Kubernetes restart) on OOM.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -Djava.io.tmpdir=/tmp"
# grpc-netty-shaded uses sun.misc.Unsafe and loads a native library: allowed, so that Java 25 does
# not print WARNING lines (plain text) among the JSON logs at start
ENTRYPOINT ["java", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", \
  "org.springframework.boot.loader.launch.JarLauncher"]
