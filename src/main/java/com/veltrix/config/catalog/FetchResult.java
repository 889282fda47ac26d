package com.veltrix.config.catalog;

import com.veltrix.config.catalog.CatalogStore.VersionRef;
import java.util.List;

/** Documents found by a batch fetch, in request order, and the refs that do not exist. */
public record FetchResult(List<Document> found, List<VersionRef> missing) {}
