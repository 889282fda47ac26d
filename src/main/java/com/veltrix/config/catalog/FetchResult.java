package com.veltrix.config.catalog;

import com.veltrix.config.catalog.CatalogStore.VersionRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Documents found by a batch fetch, in request order, and the refs that do not exist. */
public record FetchResult(List<Document> found, List<VersionRef> missing) {

  /** {@code refs} in order, each found in {@code byRef} or missing. */
  public static FetchResult of(List<VersionRef> refs, Map<VersionRef, Document> byRef) {
    List<Document> found = new ArrayList<>();
    List<VersionRef> missing = new ArrayList<>();
    for (VersionRef ref : refs) {
      Document d = byRef.get(ref);
      if (d == null) {
        missing.add(ref);
      } else {
        found.add(d);
      }
    }
    return new FetchResult(found, missing);
  }
}
