/**
 * IP addresses and CIDR ranges for the egress guard, without dependencies: parsing, and membership
 * through `node:net` `BlockList`. Security-sensitive: a parser that accepted `0x7f.1` or `010.0.0.1`
 * (which some resolvers and `inet_aton` read as 127.0.0.1 and 8.0.0.1) would let a destination slip
 * past the range check, so only the strict forms `net.isIP` accepts are addresses here. The
 * authoritative check itself lives in `egress-guard.ts`.
 */
import { BlockList, isIP } from "node:net";

export type IpFamily = "ipv4" | "ipv6";

/** A parsed IP address: `text` is what we were given (lower-cased, zone id dropped), `bytes` its value. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly text: string;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  readonly bytes: Uint8Array;
}

function parseIpv4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split("."), Number);
}

/** Expands `a:b::c` (maybe ending in a dotted quad) to 16 bytes. `text` must already pass `isIP`. */
function parseIpv6Bytes(text: string): Uint8Array {
  let groups = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    // `::ffff:10.0.0.1`: the last 32 bits are written as an IPv4 address.
    tail.push(...parseIpv4Bytes(text.slice(lastColon + 1)));
    groups = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = "", rest] = groups.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const zeros = rest === undefined ? [] : Array(8 - headGroups.length - restGroups.length).fill("0");
  const bytes = new Uint8Array(16);
  [...headGroups, ...zeros, ...restGroups].forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}

/**
 * Parses an IPv4 address in dotted-quad form or an IPv6 address in any RFC 4291 text form
 * (compressed, with an embedded dotted quad, with a `%zone` suffix, which is dropped: the zone only
 * picks an interface, the address still decides the range). Returns undefined for anything else,
 * including the legacy shorthand forms (`127.1`, `0x7f.0.0.1`, `0177.0.0.1`).
 */
export function parseIp(text: string): IpAddress | undefined {
  const zone = text.indexOf("%");
  const bare = (zone === -1 ? text : text.slice(0, zone)).toLowerCase();
  switch (isIP(bare)) {
    case 4:
      return { family: "ipv4", text: bare, bytes: parseIpv4Bytes(bare) };
    case 6:
      return { family: "ipv6", text: bare, bytes: parseIpv6Bytes(bare) };
    default:
      return undefined;
  }
}

/** The IPv4 address held in `bytes[offset..offset+4]` of an IPv6 address (mapped, NAT64, 6to4). */
export function embeddedIpv4(address: IpAddress, offset: number): IpAddress {
  const bytes = address.bytes.slice(offset, offset + 4);
  return { family: "ipv4", text: bytes.join("."), bytes };
}

const maxPrefixLength: Readonly<Record<IpFamily, number>> = { ipv4: 32, ipv6: 128 };

/** A CIDR range such as `10.0.0.0/8` or `fc00::/7`. */
export class Cidr {
  readonly network: IpAddress;
  readonly prefixLength: number;
  // One list per range so a match can name its range. Only same-family addresses are ever checked:
  // `BlockList` maps across families (an IPv6 rule `::/0` matches the IPv4 address 1.2.3.4), which
  // would make a table of IPv6 ranges swallow all of IPv4.
  private readonly list = new BlockList();

  private constructor(network: IpAddress, prefixLength: number) {
    this.network = network;
    this.prefixLength = prefixLength;
    this.list.addSubnet(network.text, prefixLength, network.family);
  }

  /**
   * Parses `address/prefix`; a bare address is a single-host range (/32 or /128). Host bits after
   * the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`). Returns undefined when the text is not a
   * range, so config validation can report it.
   */
  static parse(text: string): Cidr | undefined {
    const trimmed = text.trim();
    // A zone id is fine in an address we check, meaningless in a configured range.
    if (trimmed.includes("%")) return undefined;
    const slash = trimmed.indexOf("/");
    const network = parseIp(slash === -1 ? trimmed : trimmed.slice(0, slash));
    if (network === undefined) return undefined;
    const max = maxPrefixLength[network.family];
    if (slash === -1) return new Cidr(network, max);
    const prefix = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefix)) return undefined;
    const prefixLength = Number(prefix);
    return prefixLength <= max ? new Cidr(network, prefixLength) : undefined;
  }

  /** Like `parse`, for ranges written in code: throws on a typo instead of returning undefined. */
  static of(text: string): Cidr {
    const cidr = Cidr.parse(text);
    if (cidr === undefined) throw new Error(`not a CIDR range: ${text}`);
    return cidr;
  }

  get family(): IpFamily {
    return this.network.family;
  }

  /** True when `address` is in this range. Addresses of the other family are never contained. */
  contains(address: IpAddress): boolean {
    return address.family === this.family && this.list.check(address.text, address.family);
  }

  toString(): string {
    return `${this.network.text}/${this.prefixLength}`;
  }
}
