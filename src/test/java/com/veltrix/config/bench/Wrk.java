package com.veltrix.config.bench;

import com.veltrix.config.support.WrkRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Point reads by id with wrk ({@code -t2 -c32}), a client neither system wrote: veltrix's {@code
 * GET /api/v1/drop-tables/{id}} against etcd's JSON gateway. Both read the same sample of ids,
 * drawn once; a Lua script picks one at random per request and prints the figures when wrk is done.
 * wrk counts an answer over 399, a timeout (2 s) and a socket error as an error; whether an answer
 * with 200 holds the document is checked once per system before the run (etcd answers 200 without
 * {@code kvs} for a missing key), not per request, which would slow wrk down.
 */
final class Wrk {

  static final String POINT_READ = "point read by id, wrk -t2 -c32 (REST / etcd JSON gateway)";
  private static final int SAMPLE = 20_000;
  private static final Pattern FIGURES =
      Pattern.compile(
          "WRK requests=(\\d+) duration_us=(\\d+) errors=(\\d+) p50_us=(\\d+) p99_us=(\\d+)"
              + " p999_us=(\\d+)");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final Path binary;
  private final BenchSize size;
  private final Path dir;
  private final List<String> ids;

  Wrk(Path binary, BenchSize size, Path dir) {
    this.binary = binary;
    this.size = size;
    this.dir = dir;
    Random random = new Random(42);
    ids = new ArrayList<>();
    for (int i = 0; i < Math.min(SAMPLE, size.documents()); i++) {
      ids.add(BenchDocs.id(random.nextInt(size.documents())));
    }
  }

  /** A warm-up of {@code size.warmup()}, then the measured {@code size.measured()}. */
  Measured pointRead(Store store) {
    HttpRead read = store.httpRead().orElseThrow();
    checkOneAnswer(store, read);
    try {
      Path script = script(store, read);
      run(read, script, size.warmup());
      CpuTime cpuFrom = CpuTime.now();
      Matcher m = run(read, script, size.measured());
      CpuTime cpuTo = CpuTime.now();
      long requests = Long.parseLong(m.group(1));
      double seconds = Long.parseLong(m.group(2)) / 1e6;
      return new Measured(
              1,
              POINT_READ,
              store.name(),
              requests,
              seconds,
              requests / seconds,
              Long.parseLong(m.group(4)) / 1000.0,
              Long.parseLong(m.group(5)) / 1000.0,
              Long.parseLong(m.group(6)) / 1000.0,
              Long.parseLong(m.group(3)),
              new LinkedHashMap<>())
          .note("clients", 32)
          .note("client", "wrk -t2 -c32, " + read.method() + " " + read.path().apply("{id}"))
          .note("cpuPerOperation", cpuFrom.perOperation(cpuTo, requests));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void checkOneAnswer(Store store, HttpRead read) {
    String id = ids.get(0);
    String body = read.body().apply(id);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(read.baseUrl() + read.path().apply(id)))
            .method(
                read.method(),
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    read.headers().forEach(request::header);
    try {
      HttpResponse<String> answer =
          HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
      if (answer.statusCode() != 200 || !read.found().test(answer.body())) {
        throw new IllegalStateException(
            store.name() + " over HTTP answered " + answer.statusCode() + ": " + answer.body());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private Path script(Store store, HttpRead read) throws IOException {
    StringBuilder lua = new StringBuilder("local paths = {\n");
    for (String id : ids) {
      lua.append("  \"").append(read.path().apply(id)).append("\",\n");
    }
    lua.append("}\nlocal bodies = ");
    if (read.body().apply(ids.get(0)) == null) {
      lua.append("nil\n");
    } else {
      lua.append("{\n");
      for (String id : ids) {
        lua.append("  '").append(read.body().apply(id)).append("',\n");
      }
      lua.append("}\n");
    }
    lua.append("wrk.method = \"").append(read.method()).append("\"\n");
    for (Map.Entry<String, String> h : read.headers().entrySet()) {
      lua.append("wrk.headers[\"")
          .append(h.getKey())
          .append("\"] = \"")
          .append(h.getValue())
          .append("\"\n");
    }
    lua.append(
        """
        local threads = 0
        function setup(thread)
          threads = threads + 1
          thread:set("seed", threads * 7919)
        end
        function init(args)
          math.randomseed(seed)
        end
        function request()
          local i = math.random(#paths)
          return wrk.format(nil, paths[i], nil, bodies and bodies[i] or nil)
        end
        function done(summary, latency, requests)
          local e = summary.errors
          io.write(string.format(
            "WRK requests=%d duration_us=%d errors=%d p50_us=%d p99_us=%d p999_us=%d\\n",
            summary.requests, summary.duration,
            e.connect + e.read + e.write + e.status + e.timeout,
            latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
        end
        """);
    Path script = dir.resolve("wrk-" + store.name().replace(' ', '-') + ".lua");
    Files.writeString(script, lua);
    return script;
  }

  private Matcher run(HttpRead read, Path script, Duration duration) throws IOException {
    return WrkRun.run(
        binary.toString(),
        List.of("-t2", "-c32", "--timeout", "2s", "-s", script.toString(), read.baseUrl()),
        Math.max(1, duration.toSeconds()),
        dir.resolve("wrk.out"),
        FIGURES);
  }
}
