package com.veltrix.config.catalog;

import java.util.List;

/**
 * Change events in revision order, and {@code revision}: every change up to it (of the kinds asked
 * for) is in this page or an earlier one, so the next call passes it as {@code afterRevision}.
 */
public record ChangePage(long revision, List<ChangeEvent> events) {}
