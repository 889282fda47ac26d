package com.veltrix.config.catalog.write;

/** Who is writing ({@code updatedBy} of every version) and the request id kept beside it. */
public record WriteContext(String actor, String requestId) {}
