/**
 * Personal and network data: email addresses, URLs that carry credentials, IPv4/IPv6 addresses.
 * Email and URL finders are hand-written scans anchored on `@` and `://` (linear time, whatever the
 * input); regular expressions here have bounded repetition only.
 */
import { isIPv6 } from "node:net";
import { AT, COLON, DASH, DIGIT, DOT, SLASH, THREE_DOTS, TWO_COLONS } from "../features.ts";
import { placeholders } from "../kinds.ts";
import type { Matches } from "../matches.ts";
import type { StringRule } from "../rule.ts";
import { classifySecretKey } from "../secret-keys.ts";

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isWordChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 95;
}
/** Characters of an email local part we recognise: `A-Z a-z 0-9 . _ % + -`. */
function isLocalChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}
function isDomainChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 46 || c === 45;
}

/** True when `text[start, end)` is a domain with at least one dot and an alphabetic (or `xn--`) TLD. */
function isEmailDomain(text: string, start: number, end: number): boolean {
  let lastDot = -1;
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) !== 46) continue;
    if (i === start || i === lastDot + 1) return false; // empty label
    lastDot = i;
  }
  if (lastDot === -1 || lastDot >= end - 2) return false;
  if (text.startsWith("xn--", lastDot + 1)) return true;
  for (let i = lastDot + 1; i < end; i++) if (!isAlpha(text.charCodeAt(i))) return false;
  return true;
}

/** Email addresses: `[REDACTED_EMAIL]`. `alpine@sha256:…` and `@scope/pkg` are not addresses. */
export const emailRule: StringRule = {
  name: "email",
  kinds: ["email"],
  needs: AT | DOT,
  needsAny: 0,
  minLength: 6,
  find(text, out) {
    let floor = 0;
    for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
      let start = at;
      while (start > floor && isLocalChar(text.charCodeAt(start - 1))) start--;
      while (start < at && text.charCodeAt(start) === 46) start++;
      let end = at + 1;
      while (end < text.length && isDomainChar(text.charCodeAt(end))) end++;
      while (end > at + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--;
      if (start < at && isEmailDomain(text, at + 1, end)) {
        out.add(start, end, placeholders.email, "email");
        floor = end;
      }
    }
  },
};

function isSchemeChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 43 || c === 46 || c === 45;
}
/** Where a URL stops: blanks, quotes, angle brackets, backticks, backslashes, control characters. */
function endsUrl(c: number): boolean {
  return c <= 32 || c === 34 || c === 39 || c === 60 || c === 62 || c === 96 || c === 92 || c === 127;
}
function isTrailingPunctuation(c: number): boolean {
  return c === 46 || c === 44 || c === 59 || c === 58 || c === 33 || c === 63 || c === 41 || c === 93;
}

/** Query/fragment parameter names whose value is a credential, besides every secret-looking name. */
const secretParams: ReadonlySet<string> = new Set([
  "key",
  "sig",
  "code",
  "auth",
  "jwt",
  "session",
  "sessionid",
  "x-amz-credential",
  "x-amz-security-token",
  "x-goog-credential",
  "private_token",
  "client_secret",
]);

function isSecretParam(name: string): boolean {
  return secretParams.has(name.toLowerCase()) || classifySecretKey(name) !== undefined;
}

/** Hosts whose URLs are credentials by themselves (incoming-webhook URLs). */
const secretUrlHosts: ReadonlyArray<readonly [host: string, pathPrefix: string]> = [
  ["hooks.slack.com", "/services/"],
  ["hooks.slack.com", "/workflows/"],
  ["hooks.slack.com", "/triggers/"],
  ["discord.com", "/api/webhooks/"],
  ["discordapp.com", "/api/webhooks/"],
];

/**
 * True when the URL `[authorityStart - 3 - scheme, end)` carries a credential. `equals`: the first
 * `=` at or after `authorityStart`, or -1: without one inside the URL, no query or fragment parameter
 * can hold a value, and the parameter scan is skipped.
 */
function hasCredentials(text: string, authorityStart: number, end: number, equals: number): boolean {
  let authorityEnd = authorityStart;
  let at = -1;
  let colon = -1;
  while (authorityEnd < end) {
    const c = text.charCodeAt(authorityEnd);
    if (c === 47 || c === 63 || c === 35) break;
    if (c === 64) at = authorityEnd;
    else if (c === 58 && at === -1 && colon === -1) colon = authorityEnd;
    authorityEnd++;
  }
  if (at !== -1 && ((colon !== -1 && colon < at) || at - authorityStart >= 16)) return true;
  if (text.charCodeAt(authorityEnd) === 47 /* every secret path prefix starts with "/" */) {
    const hostStart = at === -1 ? authorityStart : at + 1;
    for (const [secretHost, prefix] of secretUrlHosts) {
      if (text.startsWith(prefix, authorityEnd)) {
        const host = text.slice(hostStart, authorityEnd).toLowerCase();
        if (host === secretHost || host.endsWith(`.${secretHost}`)) return true;
      }
    }
  }
  if (equals === -1 || equals >= end) return false;
  let q = authorityEnd;
  while (q < end) {
    const c = text.charCodeAt(q);
    if (c === 63 || c === 35 || c === 38 || c === 59) {
      let eq = q + 1;
      while (eq < end && text.charCodeAt(eq) !== 61 && text.charCodeAt(eq) !== 38) eq++;
      if (eq < end && text.charCodeAt(eq) === 61 && eq + 1 < end) {
        const next = text.charCodeAt(eq + 1);
        if (next !== 38 && next !== 35 && isSecretParam(text.slice(q + 1, eq))) return true;
      }
      q = eq;
    } else {
      q++;
    }
  }
  return false;
}

/**
 * URLs with credentials: `user:pass@` (any scheme: `https`, `postgres`, `mongodb+srv`, `redis`, ...),
 * a long token as user name, a secret-looking query or fragment parameter (`token`, `access_token`,
 * `api_key`, `sig`, `signature`, `X-Amz-Signature`, `password`, ...), or an incoming-webhook URL
 * (Slack, Discord). The whole URL becomes `[REDACTED_URL]`. Other URLs are left alone.
 */
export const urlRule: StringRule = {
  name: "url-credentials",
  kinds: ["url"],
  needs: COLON | SLASH,
  needsAny: 0,
  minLength: 6,
  find(text, out) {
    // The next `=` (kept while it lies ahead: URLs are visited left to right, so one search serves many).
    let equals = -2;
    for (let p = text.indexOf("://"); p !== -1; ) {
      let start = p;
      while (start > 0 && p - start < 32 && isSchemeChar(text.charCodeAt(start - 1))) start--;
      while (start < p && !isAlpha(text.charCodeAt(start))) start++;
      let end = p + 3;
      while (end < text.length && !endsUrl(text.charCodeAt(end))) end++;
      while (end > p + 3 && isTrailingPunctuation(text.charCodeAt(end - 1))) end--;
      if (equals !== -1 && equals < p + 3) equals = text.indexOf("=", p + 3);
      if (start < p && end > p + 3 && hasCredentials(text, p + 3, end, equals)) {
        out.add(start, end, placeholders.url, "url");
      }
      p = text.indexOf("://", Math.max(end, p + 3));
    }
  },
};

const awsHostPattern = /(?<![0-9A-Za-z_-])ip-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})(?![0-9A-Za-z_-])/g;

function octetsValid(parts: ReadonlyArray<string | undefined>): boolean {
  for (const part of parts) if (part === undefined || Number(part) > 255) return false;
  return true;
}

function isZoneChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 95 || c === 46 || c === 45 || c === 126;
}

function hasDigit(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (isDigit(text.charCodeAt(i))) return true;
  return false;
}

/** Finds an IPv6 address in the hex/colon run `[start, end)`, trying shorter tails when the run is not one. */
function findIpv6(text: string, start: number, end: number): readonly [number, number] | undefined {
  let s = start;
  for (let attempt = 0; attempt < 4; attempt++) {
    let e = end;
    // A single leading colon belongs to what precedes (`addr:fe80::1`), a double one to the address.
    if (text.charCodeAt(s) === 58 && text.charCodeAt(s + 1) !== 58) s++;
    while (e > s && text.charCodeAt(e - 1) === 46) e--;
    if (e - s >= 2 && text.charCodeAt(e - 1) === 58 && text.charCodeAt(e - 2) !== 58) e--;
    let zoneEnd = e;
    if (text.charCodeAt(e) === 37 /* % */) {
      zoneEnd = e + 1;
      while (zoneEnd < text.length && isZoneChar(text.charCodeAt(zoneEnd))) zoneEnd++;
      if (zoneEnd === e + 1) zoneEnd = e;
    }
    const before = s > 0 ? text.charCodeAt(s - 1) : 32;
    const after = zoneEnd < text.length ? text.charCodeAt(zoneEnd) : 32;
    if (!isWordChar(before) && !isWordChar(after) && hasDigit(text, s, e)) {
      if (isIPv6(text.slice(s, zoneEnd))) return [s, zoneEnd];
      if (zoneEnd !== e && isIPv6(text.slice(s, e))) return [s, e];
    }
    const colon = text.indexOf(":", s + 1);
    if (colon === -1 || colon >= e - 1) return undefined;
    s = colon + 1;
  }
  return undefined;
}

function isHexOrColonOrDot(c: number): boolean {
  return (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46;
}

/** Dotted quad starting at `start` (digits at `start`): its end, or -1. Octets ≤ 255, leading zeros allowed. */
function dottedQuadEnd(text: string, start: number): number {
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (text.charCodeAt(i) !== 46) return -1;
      i++;
    }
    let value = 0;
    let digits = 0;
    while (digits < 4 && i < text.length && isDigit(text.charCodeAt(i))) {
      value = value * 10 + text.charCodeAt(i) - 48;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || value > 255) return -1;
  }
  const after = i < text.length ? text.charCodeAt(i) : 32;
  if (isWordChar(after)) return -1;
  if (after === 46 && isDigit(text.charCodeAt(i + 1))) return -1; // 1.2.3.4.5 is a version
  return i;
}

function findIpv4(text: string, out: Matches): void {
  let floor = 0;
  for (let dot = text.indexOf("."); dot !== -1; dot = text.indexOf(".", dot + 1)) {
    if (dot < floor || !isDigit(text.charCodeAt(dot - 1))) continue;
    let start = dot - 1;
    while (start > floor && start > dot - 3 && isDigit(text.charCodeAt(start - 1))) start--;
    if (start > 0) {
      const before = text.charCodeAt(start - 1);
      if (isWordChar(before) || before === 46) continue;
    }
    const end = dottedQuadEnd(text, start);
    if (end === -1) continue;
    out.add(start, end, placeholders.ip, "ip");
    floor = end;
    dot = end;
  }
}

function hasDoubleColon(text: string, start: number, end: number): boolean {
  for (let i = start + 1; i < end; i++)
    if (text.charCodeAt(i) === 58 && text.charCodeAt(i - 1) === 58) return true;
  return false;
}

function findIpv6s(text: string, out: Matches): void {
  let floor = 0;
  for (let colon = text.indexOf(":"); colon !== -1; colon = text.indexOf(":", Math.max(colon + 1, floor))) {
    let start = colon;
    while (start > floor && isHexOrColonOrDot(text.charCodeAt(start - 1))) start--;
    let end = colon + 1;
    let colons = 1;
    while (end < text.length) {
      const c = text.charCodeAt(end);
      if (!isHexOrColonOrDot(c)) break;
      if (c === 58) colons++;
      end++;
    }
    floor = end;
    if (colons < 2 || end - start < 3) continue;
    // An IPv6 address has eight groups (seven colons) or a `::`; times like 19:15:00 have neither.
    if (colons < 7 && !hasDoubleColon(text, start, end)) continue;
    const found = findIpv6(text, start, end);
    if (found !== undefined) out.add(found[0], found[1], placeholders.ip, "ip");
  }
}

/**
 * IPv4 (dotted quad, octets ≤ 255, with or without port/CIDR), AWS-style host names that spell one
 * (`ip-10-0-3-17`), and IPv6 in every textual form (full, compressed, IPv4-mapped, with a zone id,
 * in brackets): `[REDACTED_IP]`. Not addresses: versions (`v1.2.3`, `1.2.3`, `1.2.3.4.5`), times
 * (`10:30:00.123`), MAC addresses (`00:1a:2b:3c:4d:5e`), and letter-only runs such as `dead::beef`
 * (a real IPv6 address nearly always has a digit).
 */
export const ipRule: StringRule = {
  name: "ip-address",
  kinds: ["ip"],
  needs: DIGIT,
  needsAny: THREE_DOTS | TWO_COLONS | DASH,
  minLength: 3,
  find(text, out) {
    findIpv4(text, out);
    // "p-", not "ip-": a search is as slow as its first character is common.
    if (text.indexOf("p-") !== -1) {
      awsHostPattern.lastIndex = 0;
      for (let m = awsHostPattern.exec(text); m !== null; m = awsHostPattern.exec(text)) {
        if (octetsValid([m[1], m[2], m[3], m[4]]))
          out.add(m.index, m.index + m[0].length, placeholders.ip, "ip");
      }
    }
    findIpv6s(text, out);
  },
};
