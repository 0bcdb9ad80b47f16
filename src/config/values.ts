/**
 * Parsers for scalar config values written as text: env vars, and the YAML `settings:` block (whose
 * numbers are turned into text first so both spellings go through the same rules). Each parser
 * returns a value or a one-line message; messages quote the input only for values that cannot be
 * secret (numbers, durations, booleans, enum words). URL parsers never quote it: URLs carry
 * credentials and webhook tokens.
 */

import { isIP } from "node:net";

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string };

/** Text in, typed value or message out. Input is already trimmed and non-empty. */
export type Parser<T> = (raw: string) => Parsed<T>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** The input quoted for a message, cut short so a pasted blob cannot flood the output. */
export function quote(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 37)}...` : raw);
}

/** Whole numbers in `[min, max]`, decimal digits only (no `1e3`, no `0x10`, no sign). */
export function integer(bounds: { readonly min: number; readonly max: number }): Parser<number> {
  const kind =
    bounds.min >= 1 ? "a positive integer" : bounds.min === 0 ? "a non-negative integer" : "an integer";
  return (raw) => {
    if (!/^\d+$/.test(raw)) return fail(`expected ${kind}, got ${quote(raw)}`);
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
      return fail(`expected ${kind} from ${bounds.min} to ${bounds.max}, got ${quote(raw)}`);
    }
    return ok(value);
  };
}

/** Positive decimals such as `10`, `0.5`, `10.0`, at most `max`. */
export function positiveDecimal(bounds: { readonly max: number }): Parser<number> {
  return (raw) => {
    const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value > 0 && value <= bounds.max)) {
      return fail(`expected a positive number up to ${bounds.max}, got ${quote(raw)}`);
    }
    return ok(value);
  };
}

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type DurationUnit = keyof typeof unitMs;

/**
 * Durations in milliseconds: `30s`, `5m`, `12h`, `7d`, `250ms`, compounds like `1h30m`, or plain
 * digits meaning seconds (the seed's convention), within `[minMs, maxMs]`.
 */
export function durationMs(bounds: { readonly minMs: number; readonly maxMs: number }): Parser<number> {
  return (raw) => {
    const text = raw.toLowerCase();
    let total: number;
    if (/^\d+$/.test(text)) {
      total = Number(text) * unitMs.s;
    } else if (/^(\d+(ms|s|m|h|d))+$/.test(text)) {
      total = 0;
      for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
        total += Number(amount) * unitMs[unit as DurationUnit];
      }
    } else {
      return fail(`expected a duration like 30s, 5m, 12h, 7d or plain seconds, got ${quote(raw)}`);
    }
    if (!Number.isSafeInteger(total) || total < bounds.minMs || total > bounds.maxMs) {
      return fail(
        `expected a duration from ${describeMs(bounds.minMs)} to ${describeMs(bounds.maxMs)}, got ${quote(raw)}`,
      );
    }
    return ok(total);
  };
}

/** `90000` → `90s`, `86400000` → `1d`: the largest unit that divides evenly, for messages and summaries. */
export function describeMs(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    const size = unitMs[unit];
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** `true`/`false`/`1`/`0`, any case. Nothing else: `yes` or `on` would hide a typo in a security switch. */
export const boolean: Parser<boolean> = (raw) => {
  const text = raw.toLowerCase();
  if (text === "true" || text === "1") return ok(true);
  if (text === "false" || text === "0") return ok(false);
  return fail(`expected true, false, 1 or 0, got ${quote(raw)}`);
};

/** One of a fixed set of words, any case; the value comes back in the set's spelling. */
export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    const match = values.find((v) => v === raw.toLowerCase());
    return match === undefined ? fail(`expected one of ${values.join(", ")}, got ${quote(raw)}`) : ok(match);
  };
}

/** Any text; for names and paths whose only rule is "set". */
export const text: Parser<string> = (raw) => ok(raw);

/** Parses an absolute URL whose scheme is one of `protocols`; the message never repeats the input. */
export function urlWith(protocols: readonly string[]): Parser<URL> {
  const expected = protocols.map((p) => `${p}//`).join(" or ");
  return (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return fail(`expected an absolute ${expected} URL (value not shown)`);
    }
    if (!protocols.includes(url.protocol)) {
      return fail(`expected a ${expected} URL, not ${url.protocol}//`);
    }
    return ok(url);
  };
}

/** http(s) URLs: destinations and provider endpoints (plain http is allowed for test servers). */
export const httpUrl: Parser<URL> = urlWith(["http:", "https:"]);

/**
 * An IPv4 or IPv6 CIDR range (`10.20.0.0/16`, `fd00::/8`), normalized: IPv6 lower-cased and
 * compressed (RFC 5952, `FD00:0::/8` → `fd00::/8`). The address must be one `node:net` `isIP`
 * accepts (so no `010.0.0.1` or `0x7f.1` shorthand), the prefix length 0–32 or 0–128. Refused, since
 * each widens what destinations may reach beyond what was probably meant: a bare address (write
 * `/32` or `/128`), bits set after the prefix (`10.20.1.0/16`), a `%zone`.
 */
export const cidr: Parser<string> = (raw) => {
  const slash = raw.indexOf("/");
  const address = slash === -1 ? raw : raw.slice(0, slash);
  // A valid entry is at most 49 characters: show a bad one whole unless it is far longer.
  const shown = raw.length <= 64 ? JSON.stringify(raw) : quote(raw);
  if (address.includes("%")) return fail(`${shown}: a %zone has no meaning in a range; remove it`);
  const family = isIP(address);
  if (family === 0) {
    return fail(`${shown} is not an IPv4 or IPv6 CIDR range like 10.20.0.0/16 or fd00::/8`);
  }
  const max = family === 4 ? 32 : 128;
  if (slash === -1) {
    return fail(`${shown} has no prefix length; write ${address}/${max} to allow that one address`);
  }
  const prefix = raw.slice(slash + 1);
  const length = /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
  if (!(length <= max)) {
    return fail(`${shown}: the prefix length must be 0 to ${max} for an IPv${family} range`);
  }
  const bytes = family === 4 ? ipv4Bytes(address) : ipv6Bytes(address);
  const network = bytes.map((byte, i) => byte & (0xff << Math.max(0, Math.min(8, 8 * (i + 1) - length))));
  const networkText = family === 4 ? network.join(".") : ipv6Text(network);
  if (network.some((byte, i) => byte !== bytes[i])) {
    return fail(
      `${shown} has bits set after the /${length} prefix; write ${networkText}/${length} for the whole range, or a longer prefix`,
    );
  }
  return ok(`${networkText}/${length}`);
};

function ipv4Bytes(address: string): number[] {
  return address.split(".").map(Number);
}

/** 16 bytes of an address `isIP` accepted as IPv6 (compressed, maybe ending in a dotted quad). */
function ipv6Bytes(address: string): number[] {
  const lastColon = address.lastIndexOf(":");
  const dotted = address.includes(".", lastColon);
  const tail = dotted ? ipv4Bytes(address.slice(lastColon + 1)) : [];
  // `::ffff:1.2.3.4` → `::ffff` + 2 groups from the quad; `::1.2.3.4` keeps its `::`.
  const before = address.slice(0, lastColon + 1);
  const hex = !dotted ? address : before.endsWith("::") ? before : before.slice(0, -1);
  const [head = "", rest] = hex.split("::");
  const groups = (text: string) => (text === "" ? [] : text.split(":").map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = groups(rest ?? "");
  const missing = 8 - tail.length / 2 - left.length - right.length;
  const all = [...left, ...Array<number>(rest === undefined ? 0 : missing).fill(0), ...right];
  return [...all.flatMap((group) => [group >> 8, group & 0xff]), ...tail];
}

/** RFC 5952 text: lower-case hex without leading zeros, the first longest run of 2+ zero groups as `::`. */
function ipv6Text(bytes: readonly number[]): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}
