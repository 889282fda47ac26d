package com.veltrix.config.storage;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The in-memory cache of document versions ({@code veltrix.cache.versions.*}, see {@link
 * VersionCache}).
 *
 * @param maxSize how much payload the cache may hold (UTF-16, plus a fixed overhead an entry); 0
 *     turns it off
 * @param expireAfter how long an entry is kept after it was loaded; also how far from the history
 *     horizon a version must be to be cached at all
 */
@ConfigurationProperties("veltrix.cache.versions")
public record VersionCacheProperties(
    @DefaultValue("64MB") DataSize maxSize, @DefaultValue("10m") Duration expireAfter) {}
