import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Cidr, embeddedIpv4, type IpAddress, parseIp } from "./ip-ranges.ts";

function ip(text: string): IpAddress {
  const parsed = parseIp(text);
  assert.ok(parsed, `test address ${text} must parse`);
  return parsed;
}

function hex(address: IpAddress): string {
  return Buffer.from(address.bytes).toString("hex");
}

describe("parseIp", () => {
  const valid: ReadonlyArray<[string, "ipv4" | "ipv6", string, string]> = [
    ["10.0.0.1", "ipv4", "10.0.0.1", "0a000001"],
    ["0.0.0.0", "ipv4", "0.0.0.0", "00000000"],
    ["255.255.255.255", "ipv4", "255.255.255.255", "ffffffff"],
    ["::", "ipv6", "::", "0".repeat(32)],
    ["::1", "ipv6", "::1", `${"0".repeat(31)}1`],
    ["FE80::1", "ipv6", "fe80::1", `fe80${"0".repeat(27)}1`],
    ["fe80::1%eth0", "ipv6", "fe80::1", `fe80${"0".repeat(27)}1`],
    ["::ffff:10.0.0.1", "ipv6", "::ffff:10.0.0.1", `${"0".repeat(20)}ffff0a000001`],
    ["::ffff:a00:1", "ipv6", "::ffff:a00:1", `${"0".repeat(20)}ffff0a000001`],
    ["64:ff9b::8.8.8.8", "ipv6", "64:ff9b::8.8.8.8", `0064ff9b${"0".repeat(16)}08080808`],
    ["2001:db8:0:0:1:0:0:1", "ipv6", "2001:db8:0:0:1:0:0:1", "20010db8000000000001000000000001"],
    ["2001:db8::1:0:0:1", "ipv6", "2001:db8::1:0:0:1", "20010db8000000000001000000000001"],
    ["1:2:3:4:5:6:7::", "ipv6", "1:2:3:4:5:6:7::", "00010002000300040005000600070000"],
    ["fd00:ec2::254", "ipv6", "fd00:ec2::254", `fd000ec2${"0".repeat(20)}0254`],
  ];
  for (const [text, family, canonical, bytes] of valid) {
    test(`parses ${text}`, () => {
      const parsed = ip(text);
      assert.equal(parsed.family, family);
      assert.equal(parsed.text, canonical);
      assert.equal(hex(parsed), bytes);
    });
  }

  // The legacy inet_aton shorthands: some resolvers read them as loopback, so they are not addresses.
  const invalid = [
    "",
    "localhost",
    "127.1",
    "0x7f.0.0.1",
    "0177.0.0.1",
    "2130706433",
    "010.0.0.1",
    "1.2.3.4.5",
    "256.0.0.1",
    "[::1]",
    "::ffff:10.0.0",
    "1::2::3",
    "10.0.0.1/8",
  ];
  for (const text of invalid) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseIp(text), undefined);
    });
  }

  test("embeddedIpv4 reads the IPv4 address at an offset", () => {
    assert.equal(embeddedIpv4(ip("::ffff:a00:1"), 12).text, "10.0.0.1");
    assert.equal(embeddedIpv4(ip("2002:a9fe:a9fe::1"), 2).text, "169.254.169.254");
  });
});

describe("Cidr", () => {
  test("parses ranges and single hosts", () => {
    const table: ReadonlyArray<[string, string]> = [
      ["10.0.0.0/8", "10.0.0.0/8"],
      [" 192.168.1.0/24 ", "192.168.1.0/24"],
      ["10.1.2.3", "10.1.2.3/32"],
      ["0.0.0.0/0", "0.0.0.0/0"],
      ["fd12:3456::/48", "fd12:3456::/48"],
      ["::1", "::1/128"],
      ["::/0", "::/0"],
    ];
    for (const [text, expected] of table) assert.equal(Cidr.parse(text)?.toString(), expected, text);
  });

  test("rejects what is not a range", () => {
    for (const text of [
      "",
      "10.0.0.0/",
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/8/8",
      "10.0.0.0/-1",
      "x/8",
      "fe80::1%eth0/64",
      "10/8",
      "10.0.0.0/1e1",
    ]) {
      assert.equal(Cidr.parse(text), undefined, text);
    }
    assert.throws(() => Cidr.of("10.0.0.0/33"), /not a CIDR range: 10\.0\.0\.0\/33/);
  });

  test("contains: boundaries, host bits ignored", () => {
    const cidr = Cidr.of("10.1.2.3/8");
    assert.equal(cidr.contains(ip("10.0.0.0")), true);
    assert.equal(cidr.contains(ip("10.255.255.255")), true);
    assert.equal(cidr.contains(ip("9.255.255.255")), false);
    assert.equal(cidr.contains(ip("11.0.0.0")), false);
    const v6 = Cidr.of("fc00::/7");
    assert.equal(v6.contains(ip("fc00::")), true);
    assert.equal(v6.contains(ip("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), true);
    assert.equal(v6.contains(ip("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), false);
    assert.equal(v6.contains(ip("fe00::")), false);
  });

  test("never matches across families (BlockList alone would)", () => {
    assert.equal(Cidr.of("::/0").contains(ip("1.2.3.4")), false);
    assert.equal(Cidr.of("::ffff:0:0/96").contains(ip("10.0.0.1")), false);
    assert.equal(Cidr.of("10.0.0.0/8").contains(ip("::ffff:10.0.0.1")), false);
    assert.equal(Cidr.of("0.0.0.0/0").contains(ip("::1")), false);
  });
});
