/**
 * Credentials recognised by their context rather than their shape: `Authorization` schemes,
 * `key=value` / `key: value` / `"key": "value"` pairs whose key names a secret (the key is kept, the
 * value redacted), ADO connection strings, command-line flags (`--password x`, `curl -u user:pass`,
 * `mysql -pSECRET`) and `user:pass@host` without a scheme.
 */
import { AT, BLANK, COLON, DASH, EQUALS, SEMICOLON } from "../features.ts";
import { isPlaceholder, placeholders } from "../kinds.ts";
import { isNameChar } from "../learned-namespaces.ts";
import { plainLineEnd } from "../line-end.ts";
import type { Matches } from "../matches.ts";
import type { RuleEnv, StringRule } from "../rule.ts";
import {
  classifySecretKey,
  placeholderForSecretKey,
  type SecretKeyKind,
  secretWordSource,
} from "../secret-keys.ts";

function isKeyChar(c: number): boolean {
  return (
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45
  );
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** Words that follow "Bearer"/"Basic" in prose and documentation rather than a credential. */
const schemeProse: ReadonlySet<string> = new Set([
  "a",
  "an",
  "the",
  "and",
  "or",
  "of",
  "to",
  "in",
  "on",
  "for",
  "with",
  "is",
  "are",
  "was",
  "be",
  "as",
  "by",
  "it",
  "this",
  "that",
  "auth",
  "authentication",
  "authorization",
  "token",
  "tokens",
  "credential",
  "credentials",
  "scheme",
  "schemes",
  "realm",
  "header",
  "headers",
  "access",
  "usage",
  "setup",
  "mode",
  "type",
  "http",
  "example",
  "support",
  "user",
  "users",
  "login",
  "password",
  "plan",
  "tier",
  "level",
  "info",
]);

/**
 * Pre-check for `schemePattern`: "bearer"/"basic" as written in practice (`Bearer`, `bearer`,
 * `BEARER`, ...). Odd mixed casings (`BeArEr`) are left to the `Authorization:` pair rule.
 */
function mentionsScheme(text: string): boolean {
  // "Basic"/"basic" rather than "asic": a search is as slow as its first character is common.
  return (
    text.indexOf("earer") !== -1 ||
    text.indexOf("EARER") !== -1 ||
    text.indexOf("Basic") !== -1 ||
    text.indexOf("ASIC") !== -1 ||
    text.indexOf("basic") !== -1
  );
}

const schemePattern = /(?<![A-Za-z0-9_-])(?:bearer|basic)[ \t]+([A-Za-z0-9\-._~+/]+=*)/gi;

/** `Bearer <token>` and `Basic <base64>` (any case): the credential becomes `[REDACTED_TOKEN]`, the scheme stays. */
export const authorizationSchemeRule: StringRule = {
  name: "authorization-scheme",
  kinds: ["token"],
  needs: BLANK,
  needsAny: 0,
  minLength: 7,
  find(text, out) {
    if (!mentionsScheme(text)) return;
    schemePattern.lastIndex = 0;
    for (let m = schemePattern.exec(text); m !== null; m = schemePattern.exec(text)) {
      const credential = m[1] as string;
      if (schemeProse.has(credential.toLowerCase())) continue;
      const end = m.index + m[0].length;
      out.add(end - credential.length, end, placeholders.token, "token");
    }
  },
};

/** A secret word at the end of a key, then an optional closing quote, then `:` or `=`. */
const pairPattern = new RegExp(`(${secretWordSource})(\\\\?["'])?[ \\t]*([:=])[ \\t]*`, "gi");
const authSchemes = /^(?:bearer|basic|token|digest|negotiate|ntlm|oauth|aws4-hmac-sha256|sso-key)[ \t]+/i;
const jsonLiteral = /^(?:null|true|false|~)$/i;

/**
 * Where the YAML line holding the key at `keyStart` begins, when only blanks and an optional list
 * dash precede the key on it; -1 otherwise. The opening quote of a JSON string counts as a line start
 * (a YAML snippet inside a JSON string value).
 */
function yamlLineStart(text: string, keyStart: number): number {
  let p = keyStart;
  while (p > 0 && isBlank(text.charCodeAt(p - 1))) p--;
  if (p >= 2 && text.charCodeAt(p - 1) === 45 /* - */ && isBlank(text.charCodeAt(p))) {
    p--;
    while (p > 0 && isBlank(text.charCodeAt(p - 1))) p--;
  }
  if (p === 0) return 0;
  const c = text.charCodeAt(p - 1);
  if (c === 10 || c === 13) return p;
  return c === 34 && text.charCodeAt(p - 2) !== 92 ? p : -1;
}

/** End of a JSON-style string whose opening quote is at `open` (plain `"` or escaped `\"`), or -1. */
function closingQuote(text: string, open: number, escaped: boolean, quote: number): number {
  if (quote === 39 /* ' */) return text.indexOf("'", open + 1);
  for (let i = escaped ? open + 2 : open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 34) continue;
    let k = 0;
    while (text.charCodeAt(i - 1 - k) === 92) k++;
    if (escaped ? k === 1 : k % 2 === 0) return escaped ? i - 1 : i;
  }
  return -1;
}

function endOfLine(text: string, from: number): number {
  let e = from;
  while (e < text.length) {
    const c = text.charCodeAt(e);
    if (c === 10 || c === 13) break;
    e++;
  }
  return e;
}

/** Where an unquoted `key=value` value stops. */
function endsPlainValue(c: number): boolean {
  return (
    c <= 32 || c === 34 || c === 39 || c === 38 || c === 59 || c === 44 || c === 60 || c === 62 || c === 96
  );
}

/** The lines of a YAML block scalar (`key: |`) after the line ending at `lineEnd`: `[start, end)` or undefined. */
function blockScalar(
  text: string,
  lineEnd: number,
  keyColumn: number,
): readonly [number, number] | undefined {
  let p = lineEnd;
  let first = -1;
  let last = -1;
  while (p < text.length) {
    if (text.charCodeAt(p) === 13) p++;
    if (text.charCodeAt(p) !== 10) break;
    const lineStart = p + 1;
    let q = lineStart;
    while (q < text.length && isBlank(text.charCodeAt(q))) q++;
    const e = endOfLine(text, q);
    if (q === e) {
      p = e;
      continue;
    }
    if (q - lineStart <= keyColumn) break;
    const cut = plainLineEnd(text, q);
    if (first === -1) first = q;
    last = cut;
    if (cut < e) break; // the JSON string holding the YAML closes here
    p = e;
  }
  return first === -1 || last <= first ? undefined : [first, last];
}

function reportPair(
  text: string,
  out: Matches,
  kindName: ReturnType<typeof classifySecretKey>,
  start: number,
  end: number,
  replacement?: string,
): void {
  if (kindName === undefined) return;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  if (end <= start) return;
  const value = text.slice(start, end);
  if (isPlaceholder(value) || (replacement === undefined && jsonLiteral.test(value))) return;
  out.add(start, end, replacement ?? placeholderForSecretKey(kindName), kindName);
}

/**
 * `password=…`, `DB_PASSWORD: …`, `"client_secret": "…"`, `X-Api-Key: …`, `aws_secret_access_key = …`,
 * `Authorization: Bearer …` and the like, in text, JSON (also JSON escaped inside a JSON string) and
 * YAML (also `key: |` blocks). The key stays; the value becomes `[REDACTED_SECRET]`,
 * `[REDACTED_API_KEY]` (API and access key names) or `[REDACTED_TOKEN]` (`Authorization`). A JSON
 * number value becomes the quoted placeholder so the document stays valid; `null`/`true`/`false`
 * stay. Values: quoted → up to the closing quote; after `=` → up to a blank, quote, `&`, `;` or
 * `,`; after `:` → to the end of the line when the key starts the line (YAML, headers), else like `=`.
 */
/**
 * Reports the value starting at `pos` of a pair whose key (starting at `keyStart`) names a secret of
 * `kind`; `lineMode`: the key starts its line (YAML, headers), so an unquoted value runs to the end of
 * the line. Answers where scanning may resume.
 */
function reportValue(
  text: string,
  out: Matches,
  kind: SecretKeyKind,
  pos: number,
  keyQuoted: boolean,
  lineMode: boolean,
  keyStart: number,
  jsonDocument: boolean,
): number {
  let c = text.charCodeAt(pos);
  if (kind === "token") {
    const scheme = authSchemes.exec(text.slice(pos, pos + 24));
    if (scheme !== null) {
      pos += scheme[0].length;
      c = text.charCodeAt(pos);
    }
  }
  const escapedQuote = c === 92 && text.charCodeAt(pos + 1) === 34;
  // In a JSON document, a bare `"` after an unquoted key closes the string the pair sits in.
  if (c === 34 && jsonDocument && !keyQuoted) return pos;
  if (c === 34 || c === 39 || escapedQuote) {
    const close = closingQuote(text, pos, escapedQuote, escapedQuote ? 34 : c);
    const valueStart = pos + (escapedQuote ? 2 : 1);
    const valueEnd = close === -1 ? endOfLine(text, valueStart) : close;
    reportPair(text, out, kind, valueStart, valueEnd);
    return close === -1 ? valueEnd : close;
  }
  if (keyQuoted) {
    // JSON: an unquoted value is a number, a literal, an object or an array.
    if ((c >= 48 && c <= 57) || c === 45) {
      let e = pos + 1;
      while (e < text.length && /[0-9.eE+-]/.test(text.charAt(e))) e++;
      reportPair(text, out, kind, pos, e, `"${placeholderForSecretKey(kind)}"`);
      return e;
    }
    return pos;
  }
  if (lineMode) {
    const lineEnd = plainLineEnd(text, pos);
    if (
      (c === 124 /* | */ || c === 62) /* > */ &&
      /^[|>][-+0-9]*[ \t]*(?:#.*)?$/.test(text.slice(pos, lineEnd))
    ) {
      const block = blockScalar(text, lineEnd, keyStart - yamlLineStart(text, keyStart));
      if (block !== undefined) reportPair(text, out, kind, block[0], block[1]);
      return block === undefined ? lineEnd : block[1];
    }
    reportPair(text, out, kind, pos, lineEnd);
    return lineEnd;
  }
  let e = pos;
  while (e < text.length && !endsPlainValue(text.charCodeAt(e))) e++;
  reportPair(text, out, kind, pos, e);
  return e;
}

export const secretPairRule: StringRule = {
  name: "secret-pair",
  kinds: ["secret", "api_key", "aws_key", "token"],
  needs: 0,
  needsAny: EQUALS | COLON,
  minLength: 5,
  find(text, out, env: RuleEnv) {
    pairPattern.lastIndex = 0;
    for (let m = pairPattern.exec(text); m !== null; m = pairPattern.exec(text)) {
      let keyStart = m.index;
      while (keyStart > 0 && isKeyChar(text.charCodeAt(keyStart - 1))) keyStart--;
      const separator = m[3];
      const wordEnd = m.index + (m[1] as string).length;
      const kind = classifySecretKey(text.slice(keyStart, wordEnd));
      if (kind === undefined || !env.enabled.has(kind)) continue;
      const pos = pairPattern.lastIndex;
      if (pos >= text.length) continue;
      const lineMode = separator === ":" && yamlLineStart(text, keyStart) !== -1;
      const resume = reportValue(
        text,
        out,
        kind,
        pos,
        m[2] !== undefined,
        lineMode,
        keyStart,
        env.jsonDocument,
      );
      if (resume > pairPattern.lastIndex) pairPattern.lastIndex = resume;
    }
  },
};

const jsonEntry =
  /\\?"(?:name|key)\\?"[ \t\r\n]*:[ \t\r\n]*\\?"([A-Za-z0-9_.-]{1,128})\\?"[ \t\r\n]*,[ \t\r\n]*\\?"value\\?"[ \t\r\n]*:[ \t\r\n]*/g;
const yamlEntry =
  /^([ \t]*)(?:- )?(?:name|key):[ \t]*["']?([A-Za-z0-9_.-]{1,128})["']?[ \t]*\r?\n[ \t]*value:[ \t]*/gm;

/**
 * `{"name": "DB_PASSWORD", "value": "…"}` (container env vars, header lists) written as JSON or YAML
 * text: the value of an entry whose name is secret.
 */
export const secretEntryRule: StringRule = {
  name: "secret-entry",
  kinds: ["secret", "api_key", "aws_key", "token"],
  needs: COLON,
  needsAny: 0,
  minLength: 0,
  find(text, out, env) {
    if (text.indexOf("value") === -1) return;
    jsonEntry.lastIndex = 0;
    for (let m = jsonEntry.exec(text); m !== null; m = jsonEntry.exec(text)) {
      const kind = classifySecretKey(m[1] as string);
      if (kind === undefined || !env.enabled.has(kind)) continue;
      reportValue(text, out, kind, jsonEntry.lastIndex, true, false, m.index, env.jsonDocument);
    }
    yamlEntry.lastIndex = 0;
    for (let m = yamlEntry.exec(text); m !== null; m = yamlEntry.exec(text)) {
      const kind = classifySecretKey(m[2] as string);
      if (kind === undefined || !env.enabled.has(kind)) continue;
      const valueKey = text.lastIndexOf("value:", yamlEntry.lastIndex);
      reportValue(text, out, kind, yamlEntry.lastIndex, false, true, valueKey, env.jsonDocument);
    }
  },
};
const adoPassword = /(?<![A-Za-z0-9_])(?:password|pwd)[ \t]*=[ \t]*([^;"'\r\n]{1,256});/gi;

/** `Password=…;` / `Pwd=…;` in ADO.NET / ODBC connection strings, where a value may contain blanks. */
export const connectionStringRule: StringRule = {
  name: "connection-string-password",
  kinds: ["secret"],
  needs: EQUALS | SEMICOLON,
  needsAny: 0,
  minLength: 6,
  find(text, out) {
    adoPassword.lastIndex = 0;
    for (let m = adoPassword.exec(text); m !== null; m = adoPassword.exec(text)) {
      const value = m[1] as string;
      const end = m.index + m[0].length - 1;
      if (!isPlaceholder(value.trim())) out.add(end - value.length, end, placeholders.secret, "secret");
    }
  },
};

/**
 * Where a command-line option may start: a `-` at the start or after a character other than a
 * letter, digit, `_` or `-` (what the patterns' `(?<![A-Za-z0-9_-])` says). Collected once per text,
 * so the sticky patterns below run only there instead of at every position of a long body.
 */
function optionStarts(text: string, into: number[]): number[] {
  into.length = 0;
  for (let i = text.indexOf("-"); i !== -1; i = text.indexOf("-", i + 1)) {
    // A dash inside a word (`a-b`, `x--y`) starts no flag.
    if (i === 0 || !isNameChar(text.charCodeAt(i - 1))) into.push(i);
  }
  return into;
}

const flagPattern =
  /--?(?:[A-Za-z0-9]+-){0,4}(?:password|passwd|pass|token|secret|api-?key|access-key|secret-key|client-secret|auth-token)[ \t]+(?!-)([^\s"']+)/iy;
const curlUser = /(?:-u|--user|--proxy-user|-U)[ \t]+[^\s:"']*:([^\s"']+)/y;
const mysqlPassword = /(?<![A-Za-z0-9_-])-p([^\s"'-][^\s"']*)/g;
const mysqlClient = /\b(?:mysql|mysqldump|mysqladmin|mariadb)\b/;
const starts: number[] = [];

/**
 * Each match of the sticky `pattern` at one of `starts`, left to right, never overlapping: what a
 * global search of the pattern behind `(?<![A-Za-z0-9_-])` finds, without trying every position.
 * Reports the last capture group as `[REDACTED_SECRET]`.
 */
function addOptionValues(text: string, at: readonly number[], pattern: RegExp, out: Matches): void {
  let resume = 0;
  for (const start of at) {
    if (start < resume) continue;
    pattern.lastIndex = start;
    const m = pattern.exec(text);
    if (m === null) continue;
    const value = m[1] as string;
    const end = start + m[0].length;
    if (!isPlaceholder(value)) out.add(end - value.length, end, placeholders.secret, "secret");
    resume = end;
  }
}

/**
 * Secrets as command-line arguments (Falco `proc.cmdline`, kube-bench `actual_value`):
 * `--password x`, `--db-token x`, `-p x` after `--password`-like flags, `curl -u user:pass`, and
 * `mysql -pSECRET`. (`--password=x` is a `key=value` pair.)
 */
export const commandLineRule: StringRule = {
  name: "command-line-secret",
  kinds: ["secret"],
  needs: DASH | BLANK,
  needsAny: 0,
  minLength: 5,
  find(text, out) {
    const at = optionStarts(text, starts);
    if (at.length === 0) return;
    addOptionValues(text, at, flagPattern, out);
    if (text.indexOf(":") !== -1) addOptionValues(text, at, curlUser, out);
    if (text.indexOf("-p") !== -1 && mysqlClient.test(text)) {
      mysqlPassword.lastIndex = 0;
      for (let m = mysqlPassword.exec(text); m !== null; m = mysqlPassword.exec(text)) {
        const value = m[1] as string;
        out.add(m.index + 2, m.index + 2 + value.length, placeholders.secret, "secret");
      }
    }
  },
};

/** Most characters of the user name and of the password in `user:password@`. */
const userInfoLimits = { maxUser: 64, maxPassword: 128 } as const;

/** `[A-Za-z0-9._%+-]`: a user name character. */
function isUserChar(c: number): boolean {
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 46 ||
    c === 95 ||
    c === 37 ||
    c === 43 ||
    c === 45
  );
}

/** JavaScript's `\s` (WhiteSpace and LineTerminator). */
function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** `[^\s:@/"'<>\\]`: a password character. */
function isPasswordChar(c: number): boolean {
  return (
    c !== 58 &&
    c !== 64 &&
    c !== 47 &&
    c !== 34 &&
    c !== 39 &&
    c !== 60 &&
    c !== 62 &&
    c !== 92 &&
    !isSpace(c)
  );
}

/** `[A-Za-z0-9[(]`: what may follow the `@` (a host name, an IPv6 literal, a `(tcp…)` DSN part). */
function startsHost(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 91 || c === 40;
}

/**
 * `user:password@host` without a scheme (Go/MySQL DSNs, `git` remotes): the password becomes
 * `[REDACTED_SECRET]`. The user is a whole run of `[A-Za-z0-9._%+-]` (1 to 64, not after a `/`), the
 * password 1 to 128 characters other than blanks and `:@/"'<>\`. Anchored on each `@` and read
 * backwards, so a long body costs one search for `@`, not a pattern tried at every position (the
 * equivalent global pattern, `(?<![A-Za-z0-9._%+\-/])[A-Za-z0-9._%+-]{1,64}:([^\s:@/"'<>\\]{1,128})@(?=[A-Za-z0-9[(])`,
 * took ~48 µs on a 10 KB body).
 */
export const userInfoRule: StringRule = {
  name: "user-info",
  kinds: ["secret"],
  needs: AT | COLON,
  needsAny: 0,
  minLength: 5,
  find(text, out) {
    for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
      if (at + 1 >= text.length || !startsHost(text.charCodeAt(at + 1))) continue;
      let colon = at - 1;
      while (colon >= 0 && at - colon <= userInfoLimits.maxPassword && isPasswordChar(text.charCodeAt(colon)))
        colon--;
      if (colon < 0 || colon === at - 1 || text.charCodeAt(colon) !== 58) continue;
      let user = colon;
      while (user > 0 && colon - user <= userInfoLimits.maxUser && isUserChar(text.charCodeAt(user - 1)))
        user--;
      if (user === colon || colon - user > userInfoLimits.maxUser) continue;
      if (user > 0 && text.charCodeAt(user - 1) === 47 /* / */) continue;
      if (!isPlaceholder(text.slice(colon + 1, at))) out.add(colon + 1, at, placeholders.secret, "secret");
    }
  },
};
