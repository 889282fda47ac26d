package com.veltrix.config.storage;

import java.util.ArrayList;
import java.util.List;
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

  /** One {@code unnest}: its text, and its shapes for one row and for none. */
  private record Source(String unnested, String firstArray, String oneRow, String noRow) {}

  /** The text around the sources: {@code texts} has one more element than {@code sources}. */
  private final List<String> texts = new ArrayList<>();

  private final List<Source> sources = new ArrayList<>();

  private ArrayRows(String sql) {
    Matcher unnest = UNNEST.matcher(sql);
    int from = 0;
    while (unnest.find()) {
      texts.add(sql.substring(from, unnest.start()));
      sources.add(source(unnest.group(1)));
      from = unnest.end();
    }
    texts.add(sql.substring(from));
  }

  /** {@code sql} parsed once, so that a write only picks each source's shape. */
  static ArrayRows of(String sql) {
    return new ArrayRows(sql);
  }

  /**
   * The statement with each {@code unnest} of parameter arrays written for the number of rows its
   * first array holds in {@code params} (arrays unnested together have the same length).
   */
  String shaped(SqlParameterSource params) {
    StringBuilder out = new StringBuilder(texts.get(0));
    for (int i = 0; i < sources.size(); i++) {
      Source source = sources.get(i);
      int rows = ((Object[]) params.getValue(source.firstArray())).length;
      out.append(rows > 1 ? source.unnested() : rows == 1 ? source.oneRow() : source.noRow())
          .append(texts.get(i + 1));
    }
    return out.toString();
  }

  private static Source source(String arrays) {
    Matcher array = ARRAY.matcher(arrays);
    StringBuilder first = new StringBuilder("(SELECT ");
    String firstArray = null;
    while (array.find()) {
      first.append(firstArray == null ? "(" : ", (").append(array.group()).append(")[1]");
      firstArray = firstArray == null ? array.group(1) : firstArray;
    }
    if (firstArray == null) {
      throw new IllegalArgumentException("no array in unnest(" + arrays + ")");
    }
    return new Source("unnest(" + arrays + ")", firstArray, first + ")", first + " WHERE false)");
  }
}
