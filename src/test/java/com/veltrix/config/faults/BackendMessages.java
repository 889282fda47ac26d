package com.veltrix.config.faults;

import java.nio.charset.StandardCharsets;

/**
 * Follows the database's side of one PostgreSQL connection message by message, across however the
 * stream was cut into reads, and says what the answers to a write's statement mean for the
 * half-open trap: the session took the revision row (a CommandComplete "SELECT n", n > 0: the
 * {@code SELECT ... FOR UPDATE} that locks it), or it holds nothing (an ErrorResponse: its lock
 * wait was cut; or "SELECT 0"). Every other message (the answers to BEGIN and the SETs sent ahead
 * of it, rows, notices) says neither. Backend messages are a type byte and a four-byte length that
 * counts itself; the stream opens with one unframed byte when the client asked for TLS first
 * (pgjdbc's default), 'N' for no. Bytes inside a message (a row's payload) are never read as a
 * message.
 */
final class BackendMessages {

  /** What the messages completed in one read say. */
  enum Verdict {
    NOTHING,
    TOOK_THE_ROW,
    HELD_NOTHING
  }

  private static final byte[] SELECT = "SELECT ".getBytes(StandardCharsets.US_ASCII);

  private boolean opened;
  private boolean encrypted;
  private int type = -1;
  private int lengthBytes;
  private int length;
  private int bodyLeft;
  private final byte[] tag = new byte[16];
  private int tagBytes;

  /** Reads the next {@code n} bytes of the stream; the first verdict among the messages it ends. */
  Verdict read(byte[] buffer, int n) {
    Verdict verdict = Verdict.NOTHING;
    int at = 0;
    if (!opened && n > 0) {
      opened = true;
      if (buffer[0] == 'N' || buffer[0] == 'S') { // the answer to an SSLRequest
        encrypted = buffer[0] == 'S';
        at = 1;
      }
    }
    if (encrypted) {
      return verdict; // nothing can be read on a TLS stream
    }
    while (at < n) {
      if (type < 0) {
        type = buffer[at++];
        lengthBytes = 0;
        length = 0;
        tagBytes = 0;
        continue;
      }
      if (lengthBytes < 4) {
        length = (length << 8) | (buffer[at++] & 0xff);
        if (++lengthBytes == 4) {
          bodyLeft = length - 4;
          Verdict ended = bodyLeft <= 0 ? end() : Verdict.NOTHING;
          verdict = verdict == Verdict.NOTHING ? ended : verdict;
        }
        continue;
      }
      int take = Math.min(bodyLeft, n - at);
      if (type == 'C') {
        int keep = Math.min(take, tag.length - tagBytes);
        System.arraycopy(buffer, at, tag, tagBytes, keep);
        tagBytes += keep;
      }
      at += take;
      bodyLeft -= take;
      if (bodyLeft == 0) {
        Verdict ended = end();
        verdict = verdict == Verdict.NOTHING ? ended : verdict;
      }
    }
    return verdict;
  }

  /** The current message is complete: what it says; the next byte starts another. */
  private Verdict end() {
    int ended = type;
    type = -1;
    if (ended == 'E') {
      return Verdict.HELD_NOTHING;
    }
    if (ended != 'C' || tagBytes <= SELECT.length) {
      return Verdict.NOTHING;
    }
    for (int i = 0; i < SELECT.length; i++) {
      if (tag[i] != SELECT[i]) {
        return Verdict.NOTHING;
      }
    }
    byte first = tag[SELECT.length];
    if (first == '0') {
      return Verdict.HELD_NOTHING;
    }
    return first >= '1' && first <= '9' ? Verdict.TOOK_THE_ROW : Verdict.NOTHING;
  }
}
