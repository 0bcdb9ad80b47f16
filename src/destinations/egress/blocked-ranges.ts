/**
 * The special-purpose address ranges a tenant's destination may not reach by default (SSRF): the
 * host itself, the private networks around it, link-local and cloud metadata endpoints that hand out
 * credentials, and ranges that are never a legitimate public receiver. Security-sensitive: a range
 * missing here is reachable by every tenant. This module only classifies; the decision (with the
 * operator's `ZEN_EGRESS_ALLOW_PRIVATE` and `ZEN_EGRESS_ALLOW_CIDRS`) and the authoritative check on
 * the resolved address at connect time are in `egress-guard.ts`.
 */
import { Cidr, embeddedIpv4, type IpAddress } from "./ip-ranges.ts";

/** One special-purpose range (IANA IPv4/IPv6 Special-Purpose Address Registries, RFC 6890). */
export interface BlockedRange {
  readonly cidr: Cidr;
  /** Completes "destination address 10.0.0.1 is …" in the refusal message. */
  readonly description: string;
  /**
   * Cloud metadata endpoints serve instance credentials: `ZEN_EGRESS_ALLOW_PRIVATE` does not open
   * them, only a `ZEN_EGRESS_ALLOW_CIDRS` entry that contains them.
   */
  readonly metadata: boolean;
  /**
   * IPv6 ranges that carry an IPv4 address which the network turns into an IPv4 connection: the
   * byte offset of that address. The IPv4 address is classified instead, so `::ffff:10.0.0.1` is
   * refused like 10.0.0.1 and `::ffff:8.8.8.8` allowed like 8.8.8.8.
   */
  readonly embedsIpv4At?: number;
}

function range(cidr: string, description: string, extra: Partial<BlockedRange> = {}): BlockedRange {
  return Object.freeze({ cidr: Cidr.of(cidr), description, metadata: false, ...extra });
}

/** First match wins, so single addresses come before the ranges that contain them. */
export const blockedIpv4Ranges: readonly BlockedRange[] = Object.freeze([
  // RFC 1122 "this network"; Linux connects 0.0.0.0 to the local host.
  range("0.0.0.0/8", "this-network"),
  // RFC 1918 private networks.
  range("10.0.0.0/8", "private"),
  // Alibaba Cloud's metadata service, inside the CGNAT range below.
  range("100.100.100.200/32", "a cloud metadata endpoint", { metadata: true }),
  // RFC 6598 carrier-grade NAT shared space: provider-internal, often used for cluster networks.
  range("100.64.0.0/10", "carrier-grade NAT space"),
  // RFC 1122 loopback: the service itself, its admin port, sidecars.
  range("127.0.0.0/8", "loopback"),
  // AWS, GCP, Azure, OCI and DigitalOcean instance metadata (IMDS): instance credentials.
  range("169.254.169.254/32", "a cloud metadata endpoint", { metadata: true }),
  // AWS ECS task metadata and credentials endpoint.
  range("169.254.170.2/32", "a cloud metadata endpoint", { metadata: true }),
  // RFC 3927 link-local: reachable only on the local link; home of the metadata endpoints above.
  range("169.254.0.0/16", "link-local"),
  range("172.16.0.0/12", "private"),
  // RFC 6890 IETF protocol assignments (DS-Lite, NAT64 discovery …), not hosts.
  range("192.0.0.0/24", "an IETF protocol assignment"),
  // RFC 5737 TEST-NET-1..3: documentation only, never routed.
  range("192.0.2.0/24", "reserved for documentation"),
  range("192.168.0.0/16", "private"),
  // RFC 2544 benchmarking: lab networks.
  range("198.18.0.0/15", "reserved for benchmarking"),
  range("198.51.100.0/24", "reserved for documentation"),
  range("203.0.113.0/24", "reserved for documentation"),
  // RFC 5771 multicast: not a TCP peer.
  range("224.0.0.0/4", "multicast"),
  // RFC 919 limited broadcast, inside 240/4.
  range("255.255.255.255/32", "the broadcast address"),
  // RFC 1112 reserved for future use.
  range("240.0.0.0/4", "reserved"),
]);

export const blockedIpv6Ranges: readonly BlockedRange[] = Object.freeze([
  // RFC 4291 unspecified: like 0.0.0.0, reaches the local host.
  range("::/128", "unspecified"),
  range("::1/128", "loopback"),
  // RFC 4291 IPv4-mapped: the kernel connects to the IPv4 address.
  range("::ffff:0:0/96", "IPv4-mapped", { embedsIpv4At: 12 }),
  // RFC 4291 IPv4-compatible (deprecated): no legitimate receiver, and some stacks tunnel it to IPv4.
  range("::/96", "IPv4-compatible (deprecated)"),
  // RFC 6052 well-known NAT64 prefix: the NAT64 gateway connects to the embedded IPv4 address.
  range("64:ff9b::/96", "NAT64", { embedsIpv4At: 12 }),
  // RFC 8215 local-use NAT64: where the IPv4 address sits is site-specific, so it cannot be checked.
  range("64:ff9b:1::/48", "local-use NAT64"),
  // RFC 3056 6to4: a relay connects to the IPv4 address in bits 16-47.
  range("2002::/16", "6to4", { embedsIpv4At: 2 }),
  // RFC 3849 documentation.
  range("2001:db8::/32", "reserved for documentation"),
  // AWS instance metadata over IPv6 (Nitro), inside fc00::/7.
  range("fd00:ec2::254/128", "a cloud metadata endpoint", { metadata: true }),
  // RFC 4193 unique local: the IPv6 private networks.
  range("fc00::/7", "unique local"),
  // RFC 4291 link-local.
  range("fe80::/10", "link-local"),
  // RFC 3879 site-local (deprecated), still routed inside some sites.
  range("fec0::/10", "site-local (deprecated)"),
  // RFC 4291 multicast.
  range("ff00::/8", "multicast"),
]);

/** What one address is, for the egress decision. */
export interface AddressClass {
  /** The address whose range decides: the embedded IPv4 address for mapped/NAT64/6to4, else `address`. */
  readonly effective: IpAddress;
  /** The IPv6 range that carried `effective`, when it was embedded. */
  readonly carrier: BlockedRange | undefined;
  /** The special-purpose range of `effective`; undefined for a public address. */
  readonly blocked: BlockedRange | undefined;
}

function findRange(address: IpAddress): BlockedRange | undefined {
  const table = address.family === "ipv4" ? blockedIpv4Ranges : blockedIpv6Ranges;
  return table.find((r) => r.cidr.contains(address));
}

/** Classifies `address` against the blocked ranges, looking through IPv6 ranges that carry IPv4. */
export function classifyAddress(address: IpAddress): AddressClass {
  const match = findRange(address);
  if (match?.embedsIpv4At === undefined) return { effective: address, carrier: undefined, blocked: match };
  const inner = embeddedIpv4(address, match.embedsIpv4At);
  return { effective: inner, carrier: match, blocked: findRange(inner) };
}
