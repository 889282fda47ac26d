package com.veltrix.config.bench;

import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * How one system's document is read over plain HTTP: the method, the base URL, the headers, the
 * path and body for an id ({@code body} answers null for none), and a check of an answer's body
 * that the document was found.
 */
record HttpRead(
    String method,
    String baseUrl,
    Map<String, String> headers,
    Function<String, String> path,
    Function<String, String> body,
    Predicate<String> found) {}
