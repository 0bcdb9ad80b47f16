import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { boolean, describeMs, durationMs, integer, oneOf, positiveDecimal, urlWith } from "./values.ts";

const anyDuration = durationMs({ minMs: 0, maxMs: Number.MAX_SAFE_INTEGER });

describe("value parsers", () => {
  it("parses durations with units, compounds and plain seconds", () => {
    const cases: [string, number][] = [
      ["30s", 30_000],
      ["5m", 300_000],
      ["12h", 43_200_000],
      ["7d", 604_800_000],
      ["250ms", 250],
      ["1h30m", 5_400_000],
      ["90", 90_000],
      ["60S", 60_000],
    ];
    for (const [raw, ms] of cases) assert.deepEqual(anyDuration(raw), { ok: true, value: ms }, raw);
  });

  it("refuses malformed or out-of-range durations", () => {
    for (const raw of ["", "1w", "1.5h", "-5m", "5 m", "m5", "1e3"])
      assert.equal(anyDuration(raw).ok, false, raw);
    const bounded = durationMs({ minMs: 1_000, maxMs: 60_000 });
    assert.deepEqual(bounded("2m"), { ok: false, message: 'expected a duration from 1s to 1m, got "2m"' });
    assert.equal(bounded("500ms").ok, false);
  });

  it("parses integers within bounds, digits only", () => {
    const port = integer({ min: 0, max: 65_535 });
    assert.deepEqual(port("0"), { ok: true, value: 0 });
    assert.deepEqual(port("65535"), { ok: true, value: 65_535 });
    for (const raw of ["65536", "-1", "0x10", "1e3", "8080.0", "８０"])
      assert.equal(port(raw).ok, false, raw);
  });

  it("parses positive decimals", () => {
    const rate = positiveDecimal({ max: 100 });
    assert.deepEqual(rate("10.0"), { ok: true, value: 10 });
    assert.deepEqual(rate("0.5"), { ok: true, value: 0.5 });
    for (const raw of ["0", "0.0", "101", ".5", "1,5", "NaN", "Infinity"])
      assert.equal(rate(raw).ok, false, raw);
  });

  it("parses booleans strictly", () => {
    assert.deepEqual(boolean("True"), { ok: true, value: true });
    assert.deepEqual(boolean("0"), { ok: true, value: false });
    for (const raw of ["yes", "no", "on", "2"]) assert.equal(boolean(raw).ok, false, raw);
  });

  it("matches enum words case-insensitively", () => {
    assert.deepEqual(oneOf(["full", "normal"])("FULL"), { ok: true, value: "full" });
  });

  it("checks URL schemes without echoing the URL", () => {
    const redis = urlWith(["redis:", "rediss:"]);
    assert.equal(redis("rediss://:p4ss@cache:6380").ok, true);
    const wrong = redis("https://user:hunter2-not-real@cache");
    assert.equal(wrong.ok, false);
    assert.ok(!wrong.ok && !wrong.message.includes("hunter2"));
    const garbage = redis("not a url with s3cret-not-real");
    assert.ok(!garbage.ok && !garbage.message.includes("s3cret"));
  });

  it("describes milliseconds in the largest even unit", () => {
    assert.equal(describeMs(86_400_000), "1d");
    assert.equal(describeMs(90_000), "90s");
    assert.equal(describeMs(1_500), "1500ms");
  });
});
