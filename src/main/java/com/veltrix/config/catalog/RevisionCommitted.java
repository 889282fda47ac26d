package com.veltrix.config.catalog;

/**
 * This pod has just committed {@code revision} (published after the commit, on the committer's
 * thread): whoever serves changes from this pod can send them now instead of at its next poll.
 * Other pods' commits are still found by polling.
 */
public record RevisionCommitted(long revision) {}
