import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { boolean, cidr, describeMs, durationMs, integer, oneOf, positiveDecimal, urlWith } from "./values.ts";

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

  it("parses IPv4 and IPv6 CIDR ranges into a normalized form", () => {
    const cases: [string, string][] = [
      ["10.20.0.0/16", "10.20.0.0/16"],
      ["192.168.1.7/32", "192.168.1.7/32"],
      ["0.0.0.0/0", "0.0.0.0/0"],
      ["fd00::/8", "fd00::/8"],
      ["FD00:0:0::/8", "fd00::/8"],
      ["2001:0DB8:0000:0000:0000:0000:0000:0001/128", "2001:db8::1/128"],
      ["2001:db8:0:0:1:0:0:0/128", "2001:db8:0:0:1::/128"],
      ["1:0:0:2:0:0:0:3/128", "1:0:0:2::3/128"],
      ["fe80::/9", "fe80::/9"],
      ["::/0", "::/0"],
      ["::ffff:10.0.0.0/104", "::ffff:a00:0/104"],
      ["::1.2.3.4/128", "::102:304/128"],
      ["10.0.0.0/08", "10.0.0.0/8"],
    ];
    for (const [raw, normalized] of cases) assert.deepEqual(cidr(raw), { ok: true, value: normalized }, raw);
  });

  it("refuses what is not a CIDR range, naming the entry", () => {
    const cases: [string, string][] = [
      ["10.0.0.1", '"10.0.0.1" has no prefix length; write 10.0.0.1/32 to allow that one address'],
      ["fd00::1", '"fd00::1" has no prefix length; write fd00::1/128 to allow that one address'],
      ["10.0.0.0/33", '"10.0.0.0/33": the prefix length must be 0 to 32 for an IPv4 range'],
      ["fd00::/129", '"fd00::/129": the prefix length must be 0 to 128 for an IPv6 range'],
      ["10.0.0.0/", '"10.0.0.0/": the prefix length must be 0 to 32 for an IPv4 range'],
      ["10.0.0.0/-1", '"10.0.0.0/-1": the prefix length must be 0 to 32 for an IPv4 range'],
      ["10.0.0.0/8/8", '"10.0.0.0/8/8": the prefix length must be 0 to 32 for an IPv4 range'],
      [
        "10.20.1.0/16",
        '"10.20.1.0/16" has bits set after the /16 prefix; write 10.20.0.0/16 for the whole range, or a longer prefix',
      ],
      [
        "fd00::1/64",
        '"fd00::1/64" has bits set after the /64 prefix; write fd00::/64 for the whole range, or a longer prefix',
      ],
      ["fe80::1%eth0/64", '"fe80::1%eth0/64": a %zone has no meaning in a range; remove it'],
      ["10.0.0.256/8", '"10.0.0.256/8" is not an IPv4 or IPv6 CIDR range like 10.20.0.0/16 or fd00::/8'],
      ["010.0.0.0/8", '"010.0.0.0/8" is not an IPv4 or IPv6 CIDR range like 10.20.0.0/16 or fd00::/8'],
      ["10.1/16", '"10.1/16" is not an IPv4 or IPv6 CIDR range like 10.20.0.0/16 or fd00::/8'],
      ["example.com/24", '"example.com/24" is not an IPv4 or IPv6 CIDR range like 10.20.0.0/16 or fd00::/8'],
    ];
    for (const [raw, message] of cases) assert.deepEqual(cidr(raw), { ok: false, message }, raw);
  });
});
