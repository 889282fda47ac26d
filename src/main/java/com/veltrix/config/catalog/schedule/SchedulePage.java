package com.veltrix.config.catalog.schedule;

import java.util.List;
import java.util.Optional;

/** One page of schedules, by {@code applyAt}. */
public record SchedulePage(List<Schedule> items, Optional<String> nextPageToken) {}
