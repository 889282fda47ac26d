package com.veltrix.config.rest;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.veltrix.config.catalog.CatalogLimits;
import org.springframework.boot.autoconfigure.jackson.Jackson2ObjectMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Parser limits for request bodies, on top of application.yaml's strictness (duplicate keys,
 * unknown fields, trailing tokens refused; floats kept exact). The nesting limit leaves room for a
 * batch's envelope; the payload's own depth is checked against {@code veltrix.limits.max-depth}.
 */
@Configuration(proxyBeanMethods = false)
class JacksonLimits {

  /** {"writes": [ {"payload": ...} ] } wraps a payload in three levels. */
  private static final int ENVELOPE_DEPTH = 3;

  @Bean
  Jackson2ObjectMapperBuilderCustomizer requestBodyLimits(CatalogLimits limits) {
    StreamReadConstraints constraints =
        StreamReadConstraints.builder()
            .maxNestingDepth(limits.maxDepth() + ENVELOPE_DEPTH)
            .maxNumberLength(100)
            .maxStringLength((int) limits.maxPayloadSize().toBytes())
            .build();
    return builder ->
        builder.postConfigurer(mapper -> mapper.getFactory().setStreamReadConstraints(constraints));
  }
}
