import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { rejects } from "./test-kit.ts";
import { checkTimestamp, parseTimestampText, parseTimestampValue } from "./timestamp.ts";

describe("timestamp parsing", () => {
  it("accepts plain non-negative integers only", () => {
    assert.equal(parseTimestampText("1700000000"), 1_700_000_000);
    assert.equal(parseTimestampText("0"), 0);
    for (const bad of ["", " 1", "1 ", "-1", "+1", "1.5", "1e9", "0x10", "12345678901234567", "١٢"]) {
      assert.equal(parseTimestampText(bad), undefined, bad);
    }
    assert.equal(parseTimestampValue(1_700_000_000_000), 1_700_000_000_000);
    assert.equal(parseTimestampValue("42"), 42);
    for (const bad of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, null, {}, true]) {
      assert.equal(parseTimestampValue(bad), undefined, String(bad));
    }
  });
});

describe("checkTimestamp", () => {
  const nowMs = 1_700_000_000_999;

  it("compares seconds at whole-second resolution, both edges inclusive", () => {
    assert.equal(checkTimestamp(1_700_000_000 - 300, "s", 300, nowMs, "t"), (1_700_000_000 - 300) * 1000);
    assert.equal(checkTimestamp(1_700_000_000 + 300, "s", 300, nowMs, "t"), (1_700_000_000 + 300) * 1000);
    rejects(() => checkTimestamp(1_700_000_000 - 301, "s", 300, nowMs, "t"), "timestamp_stale");
    rejects(() => checkTimestamp(1_700_000_000 + 301, "s", 300, nowMs, "t"), "timestamp_future");
  });

  it("compares milliseconds exactly", () => {
    assert.equal(checkTimestamp(nowMs - 60_000, "ms", 60, nowMs, "t"), nowMs - 60_000);
    rejects(() => checkTimestamp(nowMs - 60_001, "ms", 60, nowMs, "t"), "timestamp_stale");
    rejects(() => checkTimestamp(nowMs + 60_001, "ms", 60, nowMs, "t"), "timestamp_future");
  });

  it("is two-sided and symmetric (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 86_400 }),
        fc.integer({ min: -200_000, max: 200_000 }),
        (tol, skew) => {
          const ts = Math.floor(nowMs / 1000) + skew;
          try {
            checkTimestamp(ts, "s", tol, nowMs, "t");
            return Math.abs(skew) <= tol;
          } catch (error) {
            const code = (error as { code?: string }).code;
            return Math.abs(skew) > tol && code === (skew < 0 ? "timestamp_stale" : "timestamp_future");
          }
        },
      ),
    );
  });
});
