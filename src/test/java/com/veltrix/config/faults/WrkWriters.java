package com.veltrix.config.faults;

import com.veltrix.config.support.WrkRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Closed-loop single-document writers run by wrk, a client that costs little CPU beside the
 * services it drives (the issue's own measurement used it): {@code -t<clients> -c<clients>}, one
 * connection per wrk thread, thread {@code n} bound to instance {@code n % instances}. Each client
 * writes its own 100 documents ({@code PUT /api/v1/drop-tables/c<n>-<i>}), every write new content.
 * Latencies are wrk's, over every answer (refusals included).
 */
final class WrkWriters {

  private static final Pattern FIGURES =
      Pattern.compile(
          "WRITES requests=\\d+ duration_us=(\\d+) ok=(\\d+) refused503=(\\d+) other=(\\d+)"
              + " errors=(\\d+) p50_us=(\\d+) p99_us=(\\d+)");

  /** One run's figures. {@code other}: answers neither 2xx nor 503; {@code errors}: sockets. */
  record Figures(
      double seconds,
      long answered,
      long refused,
      long other,
      long socketErrors,
      double p50Millis,
      double p99Millis) {

    double answeredPerSecond() {
      return answered / seconds;
    }
  }

  private final Path script;
  private final int clients;
  private final String firstInstance;

  WrkWriters(List<URI> instances, String token, int clients, Path dir) {
    this.clients = clients;
    this.firstInstance = instances.get(0).toString();
    StringBuilder lua = new StringBuilder("local instances = {\n");
    for (URI u : instances) {
      lua.append(String.format("  {\"%s\", %d},%n", u.getHost(), u.getPort()));
    }
    lua.append("}\nlocal token = \"").append(token).append("\"\n");
    lua.append(
        """
        local threads = {}
        function setup(thread)
          local n = #threads
          local at = instances[n % #instances + 1]
          thread.addr = wrk.lookup(at[1], tostring(at[2]))[1]
          thread:set("client", n)
          table.insert(threads, thread)
        end
        -- globals, so that done() can read each thread's with thread:get
        sent, ok, refused, other = 0, 0, 0, 0
        function request()
          sent = sent + 1
          local body = string.format('{"rolls": 2, "entries": [{"itemId": "item-%d",'
            .. ' "weight": %d, "minQuantity": 1, "maxQuantity": 3}]}', sent, 1 + sent % 97)
          return wrk.format("PUT", string.format("/api/v1/drop-tables/c%d-%d", client, sent % 100),
            {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
        end
        function response(status, headers, body)
          if status == 200 or status == 201 then ok = ok + 1
          elseif status == 503 then refused = refused + 1
          else other = other + 1 end
        end
        function done(summary, latency, requests)
          local o, r, x = 0, 0, 0
          for _, t in ipairs(threads) do
            o = o + t:get("ok"); r = r + t:get("refused"); x = x + t:get("other")
          end
          local e = summary.errors
          io.write(string.format(
            "WRITES requests=%d duration_us=%d ok=%d refused503=%d other=%d errors=%d"
            .. " p50_us=%d p99_us=%d\\n",
            summary.requests, summary.duration, o, r, x, e.connect + e.read + e.write + e.timeout,
            latency:percentile(50), latency:percentile(99)))
        end
        """);
    try {
      Files.createDirectories(dir);
      script = dir.resolve("wrk-writers.lua");
      Files.writeString(script, lua);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether a {@code wrk} binary runs here (bench/run installs Debian's). */
  static boolean available() {
    try {
      Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      p.waitFor(10, TimeUnit.SECONDS);
      return true;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  Figures run(int seconds) throws IOException {
    Matcher m =
        WrkRun.run(
            "wrk",
            List.of(
                "-t" + clients,
                "-c" + clients,
                "--timeout",
                "2s",
                "-s",
                script.toString(),
                firstInstance),
            seconds,
            script.resolveSibling("wrk-writers.out"),
            FIGURES);
    Figures f =
        new Figures(
            Long.parseLong(m.group(1)) / 1e6,
            Long.parseLong(m.group(2)),
            Long.parseLong(m.group(3)),
            Long.parseLong(m.group(4)),
            Long.parseLong(m.group(5)),
            Long.parseLong(m.group(6)) / 1000.0,
            Long.parseLong(m.group(7)) / 1000.0);
    if (f.answered() == 0 && f.refused() == 0) {
      // no write went in and none was refused: the harness is wrong (a token, a path), not slow;
      // stop now instead of warming up to the cap and reporting 0 writes/s
      throw new IllegalStateException(
          "no write answered 2xx or 503 in "
              + seconds
              + " s: "
              + f
              + "; wrk's output: "
              + script.resolveSibling("wrk-writers.out"));
    }
    return f;
  }
}
