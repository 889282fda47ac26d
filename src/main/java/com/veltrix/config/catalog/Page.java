package com.veltrix.config.catalog;

import java.util.List;
import java.util.Optional;

/** One page of a listing or a history, read at {@code revision}; the token fetches the next. */
public record Page<T>(long revision, List<T> items, Optional<String> nextPageToken) {}
