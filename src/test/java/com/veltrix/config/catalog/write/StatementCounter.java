package com.veltrix.config.catalog.write;

import com.veltrix.config.support.WrapDataSource;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Watches the real connections of the real pool and, for every write attempt that ends (a Spring
 * transaction's commit or rollback), records how many statements ran on its connection before the
 * revision row was taken ({@code UPDATE revision_counter ...}: the reads, which run before the
 * database transaction begins) and how many while it was held, that statement included. COMMIT is
 * not a statement here (it is {@link Connection#commit()}, or sent with the last statement).
 */
final class StatementCounter extends DelegatingDataSource {

  /**
   * One finished transaction; {@code commitSent} when its last statement carried the COMMIT (then
   * {@link Connection#commit()} has nothing left to send: no round trip of its own).
   */
  record Transaction(int before, int whileHeld, boolean committed, boolean commitSent) {}

  private static final String REVISION_ROW = "UPDATE revision_counter SET revision";

  private final List<Transaction> finished = new CopyOnWriteArrayList<>();

  /** The text of every statement that took the revision row, as the driver was given it. */
  private final List<String> revisionStatements = new CopyOnWriteArrayList<>();

  StatementCounter(DataSource target) {
    super(target);
  }

  List<Transaction> finished() {
    return List.copyOf(finished);
  }

  List<String> revisionStatements() {
    return List.copyOf(revisionStatements);
  }

  void clear() {
    finished.clear();
    revisionStatements.clear();
  }

  @Override
  public Connection getConnection() throws java.sql.SQLException {
    return watch(super.getConnection());
  }

  private Connection watch(Connection connection) {
    return WrapDataSource.around(Connection.class, connection, new Counting());
  }

  /** The calls of one connection. */
  private final class Counting implements WrapDataSource.Hook {
    private boolean transactional;
    private int before;
    private int whileHeld;
    private boolean commitSent;

    @Override
    public Object handle(Method method, Object[] args, WrapDataSource.Call call) throws Throwable {
      switch (method.getName()) {
        case "setAutoCommit" -> transactional |= !(Boolean) args[0];
        case "prepareStatement", "prepareCall" -> statement((String) args[0]);
        case "commit" -> end(true);
        case "rollback" -> end(false);
        case "close" -> reset();
        default -> {}
      }
      Object result = call.proceed();
      if (method.getName().equals("createStatement")) {
        return WrapDataSource.around(
            Statement.class,
            (Statement) result,
            (m, a, execute) -> {
              if (m.getName().startsWith("execute") && a != null && a[0] instanceof String sql) {
                statement(sql);
              }
              return execute.proceed();
            });
      }
      return result;
    }

    private void statement(String sql) {
      if (sql.contains(REVISION_ROW)) {
        revisionStatements.add(sql);
      }
      if (whileHeld > 0 || sql.contains(REVISION_ROW)) {
        whileHeld++;
      } else {
        before++;
      }
      commitSent = sql.strip().endsWith("COMMIT");
    }

    private void end(boolean committed) {
      if (transactional && before + whileHeld > 0) {
        finished.add(new Transaction(before, whileHeld, committed, commitSent));
      }
      reset();
    }

    /** A connection handed out for plain reads is closed without a commit: nothing to record. */
    private void reset() {
      transactional = false;
      before = 0;
      whileHeld = 0;
      commitSent = false;
    }
  }
}
