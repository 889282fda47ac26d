package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.support.TestDatabase;
import com.zaxxer.hikari.util.DriverDataSource;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.jdbc.DataSourceProperties;

/**
 * A new session answers its first query without a statement of pgjdbc's own before it: after a
 * leader transition every pod opens its connections again, and on CockroachDB across zones each
 * round trip of that is a cross-zone one. Read from the frontend messages on the wire.
 */
class ConnectionSetupTest {

  private final Wire wire = new Wire(TestDatabase.postgres().getPort());

  @AfterEach
  void close() throws IOException {
    wire.close();
  }

  @Test
  void aPoolConnectionSendsNothingBeforeItsFirstQuery() throws SQLException {
    Properties properties =
        Connections.withSessionBounds(new Properties(), SessionBoundsTest.DEFAULTS);
    properties.setProperty("ApplicationName", "veltrix-config-test");
    DataSource pool =
        new DriverDataSource(
            wire.url(), "org.postgresql.Driver", properties, "postgres", "postgres");

    assertThat(SessionBoundsTest.show(pool, "application_name")).isEqualTo("veltrix-config-test");
    assertThat(wire.messagesAfterStartup())
        .as("frontend messages of the session after its startup message")
        .first()
        .isEqualTo("query: SHOW application_name");
  }

  @Test
  void aProbeConnectionSendsNothingBeforeItsFirstQuery() throws SQLException {
    DataSourceProperties source = SessionBoundsTest.embedded();
    source.setUrl(wire.url());
    DataSource probe =
        Connections.forProbe(source, SessionBoundsTest.DEFAULTS, Duration.ofSeconds(1));

    try (Connection c = probe.getConnection()) {
      c.createStatement().execute("SELECT 1");
    }
    assertThat(wire.messagesAfterStartup()).first().isEqualTo("query: SELECT 1");
  }

  /**
   * A relay to the database that names each frontend message after the startup message: {@code
   * query: <text>} for a simple query or a Parse, the message's type letter otherwise.
   */
  static final class Wire {
    private final ServerSocket server;
    private final List<String> messages = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    Wire(int databasePort) {
      try {
        server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  while (true) {
                    Socket client = server.accept();
                    Socket database = new Socket(InetAddress.getLoopbackAddress(), databasePort);
                    sockets.add(client);
                    sockets.add(database);
                    start(() -> frontend(client.getInputStream(), database.getOutputStream()));
                    start(() -> database.getInputStream().transferTo(client.getOutputStream()));
                  }
                } catch (IOException e) {
                  // closed
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
    }

    String url() {
      return "jdbc:postgresql://localhost:" + server.getLocalPort() + "/postgres";
    }

    List<String> messagesAfterStartup() {
      return List.copyOf(messages);
    }

    private interface Pump {
      void run() throws IOException;
    }

    private static void start(Pump pump) {
      Thread t =
          new Thread(
              () -> {
                try {
                  pump.run();
                } catch (IOException e) {
                  // the connection ended
                }
              });
      t.setDaemon(true);
      t.start();
    }

    private void frontend(InputStream from, OutputStream to) throws IOException {
      DataInputStream in = new DataInputStream(from);
      DataOutputStream out = new DataOutputStream(to);
      while (true) { // untyped: an SSLRequest (answered with one byte), then the startup message
        int length = in.readInt();
        int code = in.readInt();
        out.writeInt(length);
        out.writeInt(code);
        out.write(in.readNBytes(length - 8));
        if (code != 80877103 && code != 80877104) { // not an SSLRequest or GSSENCRequest
          break;
        }
      }
      while (true) {
        int type = in.read();
        if (type < 0) {
          return;
        }
        int length = in.readInt();
        byte[] body = in.readNBytes(length - 4);
        out.write(type);
        out.writeInt(length);
        out.write(body);
        messages.add(name((char) type, body));
      }
    }

    private static String name(char type, byte[] body) {
      String text = new String(body, StandardCharsets.UTF_8);
      return switch (type) {
        case 'Q' -> "query: " + text.substring(0, text.indexOf('\0'));
        case 'P' -> { // statement name, NUL, query text, NUL, ...
          String afterName = text.substring(text.indexOf('\0') + 1);
          yield "query: " + afterName.substring(0, afterName.indexOf('\0'));
        }
        default -> String.valueOf(type);
      };
    }

    void close() throws IOException {
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
