package com.veltrix.config.storage;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.jdbc.core.namedparam.SqlParameterSource;

/**
 * Rows passed as parameter arrays, {@code unnest(CAST(:a AS TEXT[]), CAST(:b AS BIGINT[]))}, given
 * the shape their planner can see when the arrays hold no row or one.
 *
 * <p>PostgreSQL plans a prepared statement once for all executions (its generic plan) only when
 * that plan is estimated no dearer than the ones planned for each execution's values. A generic
 * plan cannot know an array's length and takes an {@code unnest} for 10 rows (EXPLAIN, PostgreSQL
 * 15), so once its tables are large a statement with an {@code unnest} join is planned again at
 * every execution: for the write transaction's append (seven sources of rows over six tables),
 * 0.51-0.58 ms of a single-document write's ~1.2 ms of PostgreSQL time (docs/performance.md, "What
 * a single write costs"). With one row the source becomes {@code (SELECT (CAST(:a AS TEXT[]))[1],
 * ...)} and with none the same {@code WHERE false}: a row count the generic plan knows, the same
 * parameters, the same columns, the same answer. Several rows keep the {@code unnest}, planned once
 * a statement (a batch's, a group's). CockroachDB has subscripts, a {@code SELECT} without {@code
 * FROM} and column aliases on a subquery as PostgreSQL does (its documentation; not run here).
 */
final class ArrayRows {

  /** An {@code unnest} of casts of named parameters, e.g. {@code CAST(:kinds AS TEXT[])}. */
  private static final Pattern UNNEST =
      Pattern.compile("unnest\\(((?:\\s*CAST\\(:\\w+ AS \\w+\\[\\]\\),?)+)\\)");

  private static final Pattern ARRAY = Pattern.compile("CAST\\(:(\\w+) AS \\w+\\[\\]\\)");

  private ArrayRows() {}

  /**
   * {@code sql} with each {@code unnest} of parameter arrays written for the number of rows its
   * first array holds in {@code params} (arrays unnested together have the same length).
   */
  static String shaped(String sql, SqlParameterSource params) {
    Matcher unnest = UNNEST.matcher(sql);
    StringBuilder out = new StringBuilder(sql.length() + 256);
    while (unnest.find()) {
      unnest.appendReplacement(out, Matcher.quoteReplacement(shape(unnest.group(1), params)));
    }
    unnest.appendTail(out);
    return out.toString();
  }

  private static String shape(String arrays, SqlParameterSource params) {
    Matcher array = ARRAY.matcher(arrays);
    if (!array.find()) {
      throw new IllegalArgumentException("no array in unnest(" + arrays + ")");
    }
    int rows = ((Object[]) params.getValue(array.group(1))).length;
    if (rows > 1) {
      return "unnest(" + arrays + ")";
    }
    StringBuilder first = new StringBuilder("(SELECT ");
    array.reset();
    boolean more = false;
    while (array.find()) {
      first.append(more ? ", (" : "(").append(array.group()).append(")[1]");
      more = true;
    }
    return first.append(rows == 0 ? " WHERE false)" : ")").toString();
  }
}
