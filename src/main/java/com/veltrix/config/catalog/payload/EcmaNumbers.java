package com.veltrix.config.catalog.payload;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * A double as RFC 8785 writes it: ECMAScript's {@code Number.prototype.toString} (ECMA-262,
 * Number::toString), i.e. the fewest significant digits that read back as the same double (the
 * closest such digits when there is a choice), in plain notation from 1e-6 to below 1e21 and in
 * exponent notation ({@code 1e+21}, {@code 1.5e-7}) outside it. Java 17's {@code Double.toString}
 * is not this: it does not always find the shortest digits and writes {@code 1.0E21}.
 */
final class EcmaNumbers {

  private EcmaNumbers() {}

  /**
   * The canonical text of the double nearest to {@code written}, or null when there is none (out of
   * range). Configuration numbers mostly have few digits: a decimal of at most 15 significant
   * digits (well inside the normal range) reads back from its double unchanged, so those digits are
   * the shortest and closest and need no search.
   */
  static String canonical(BigDecimal written) {
    if (written.signum() == 0) {
      return "0";
    }
    BigDecimal stripped = written.stripTrailingZeros();
    int exponent = stripped.precision() - stripped.scale() - 1;
    if (stripped.precision() <= 15 && exponent > -300 && exponent < 300) {
      return (stripped.signum() < 0 ? "-" : "") + layout(stripped.abs());
    }
    double value = written.doubleValue();
    return Double.isFinite(value) ? format(value) : null;
  }

  /** The canonical text of a finite double; -0 is {@code 0}. */
  static String format(double value) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("not a finite number: " + value);
    }
    if (value == 0) {
      return "0";
    }
    BigDecimal digits = shortest(Math.abs(value));
    return (value < 0 ? "-" : "") + layout(digits);
  }

  /** The fewest decimal digits that read back as {@code a} (positive); the closest if several. */
  private static BigDecimal shortest(double a) {
    BigDecimal exact = new BigDecimal(a);
    for (int precision = 1; precision < 17; precision++) {
      BigDecimal nearest = exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
      if (nearest.doubleValue() == a) {
        return nearest;
      }
      // Near a power of two the interval that reads back as a is lopsided: the nearest digits
      // can fall outside it while the ones on the other side of a fall inside.
      BigDecimal below = exact.round(new MathContext(precision, RoundingMode.FLOOR));
      BigDecimal above = exact.round(new MathContext(precision, RoundingMode.CEILING));
      boolean belowReads = below.doubleValue() == a;
      boolean aboveReads = above.doubleValue() == a;
      if (belowReads && aboveReads) {
        return exact.subtract(below).compareTo(above.subtract(exact)) <= 0 ? below : above;
      } else if (belowReads) {
        return below;
      } else if (aboveReads) {
        return above;
      }
    }
    return exact.round(new MathContext(17, RoundingMode.HALF_EVEN)); // 17 digits always read back
  }

  /** ECMA-262 Number::toString steps 6-12 for digits s (k of them) and value s x 10^(n-k). */
  private static String layout(BigDecimal value) {
    BigDecimal stripped = value.stripTrailingZeros();
    String s = stripped.unscaledValue().toString();
    int k = s.length();
    int n = k - stripped.scale();
    if (k <= n && n <= 21) {
      return s + "0".repeat(n - k);
    }
    if (0 < n && n <= 21) {
      return s.substring(0, n) + "." + s.substring(n);
    }
    if (-6 < n && n <= 0) {
      return "0." + "0".repeat(-n) + s;
    }
    int exponent = n - 1;
    String e = "e" + (exponent < 0 ? "-" : "+") + Math.abs(exponent);
    return k == 1 ? s + e : s.charAt(0) + "." + s.substring(1) + e;
  }
}
