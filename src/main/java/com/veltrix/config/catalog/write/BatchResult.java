package com.veltrix.config.catalog.write;

import java.util.List;

/**
 * The outcome of a batch: the one revision it was written at (the current revision if every write
 * was a no-op), and one result per write, in request order.
 */
public record BatchResult(long revision, List<WriteResult> results) {}
