package com.veltrix.config.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.faults.BackendMessages.Verdict;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BackendMessagesTest {

  private static final byte[] LOGIN =
      concat(
          new byte[] {'N'}, // no TLS
          message('R', new byte[] {0, 0, 0, 0}),
          message('S', text("TimeZone\0UTC\0")),
          message('Z', new byte[] {'I'}));

  /** A write's round trip: BEGIN, SET, SET, then the append's row and its CommandComplete. */
  private static byte[] append(String tag) {
    return concat(
        message('1', new byte[0]),
        message('C', text("BEGIN\0")),
        message('C', text("SET\0")),
        message('C', text("SET\0")),
        message('2', new byte[0]),
        message('D', text("\0\0\0\0\0\0\0\u0001")),
        message('C', text(tag + "\0")),
        message('Z', new byte[] {'T'}));
  }

  @Test
  void theAppendsOwnResultTakesTheRowWhereverTheStreamIsCut() {
    byte[] stream = concat(LOGIN, append("SELECT 1"));
    for (int cut = 0; cut <= stream.length; cut++) {
      assertThat(verdicts(stream, cut)).as("cut at " + cut).isEqualTo(Verdict.TOOK_THE_ROW);
    }
  }

  @Test
  void anAppendThatFoundItsReadsMovedOrFailedHoldsNothing() {
    assertThat(verdicts(concat(LOGIN, append("SELECT 0")), 7)).isEqualTo(Verdict.HELD_NOTHING);
    byte[] failed =
        concat(
            LOGIN,
            message('C', text("BEGIN\0")),
            message('E', text("SERROR\0C55P03\0\0")),
            message('Z', new byte[] {'E'}));
    for (int cut = 0; cut <= failed.length; cut++) {
      assertThat(verdicts(failed, cut)).as("cut at " + cut).isEqualTo(Verdict.HELD_NOTHING);
    }
  }

  @Test
  void answersBeforeTheAppendAndBytesInsideARowSayNothing() {
    byte[] earlier = concat(LOGIN, message('C', text("BEGIN\0")), message('C', text("SET\0")));
    assertThat(verdicts(earlier, 3)).isEqualTo(Verdict.NOTHING);
    // a row whose payload holds what looks like a CommandComplete "SELECT 1"
    byte[] row =
        concat(LOGIN, message('D', concat(new byte[] {'C', 0, 0, 0, 13}, text("SELECT 1\0"))));
    assertThat(verdicts(row, 20)).isEqualTo(Verdict.NOTHING);
  }

  /** The first verdict of a fresh framer fed {@code stream} in two reads, cut at {@code cut}. */
  private static Verdict verdicts(byte[] stream, int cut) {
    BackendMessages answers = new BackendMessages();
    Verdict first = answers.read(Arrays.copyOfRange(stream, 0, cut), cut);
    Verdict second =
        answers.read(Arrays.copyOfRange(stream, cut, stream.length), stream.length - cut);
    return first != Verdict.NOTHING ? first : second;
  }

  private static byte[] message(char type, byte[] body) {
    int length = body.length + 4;
    return concat(
        new byte[] {
          (byte) type,
          (byte) (length >>> 24),
          (byte) (length >>> 16),
          (byte) (length >>> 8),
          (byte) length
        },
        body);
  }

  private static byte[] text(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
