/**
 * Credentials recognisable by their own shape, wherever they appear: PEM private keys, JWTs, and the
 * prefixed tokens of Slack, GitHub, GitLab, AWS and Stripe. Each is replaced whole.
 */
import { DASH, DOT, UNDERSCORE, UPPER } from "../features.ts";
import { placeholders, type RedactionKind } from "../kinds.ts";
import type { Matches } from "../matches.ts";
import type { RuleEnv, StringRule } from "../rule.ts";

function isEscapedAt(text: string, i: number): boolean {
  let k = 0;
  while (i - 1 - k >= 0 && text.charCodeAt(i - 1 - k) === 92) k++;
  return k % 2 === 1;
}

function nextUnescapedQuote(text: string, from: number): number {
  let q = text.indexOf('"', from);
  while (q !== -1 && isEscapedAt(text, q)) q = text.indexOf('"', q + 1);
  return q;
}

const pemHeader = /^[ \t]*(?:Proc-Type|DEK-Info|Version|Comment|Hash):/;

/**
 * True when `text[start, end)` can be a line of a PEM body: base64 and blanks (also JSON-escaped line
 * breaks), or a `Proc-Type:`/`DEK-Info:` header of an encrypted key.
 */
export function looksLikePemBody(text: string, start: number, end: number): boolean {
  if (pemHeader.test(text.slice(start, Math.min(end, start + 24)))) return true;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const ok =
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      (c >= 48 && c <= 57) ||
      c === 43 || // +
      c === 47 || // /
      c === 61 || // =
      c === 32 ||
      c === 9 ||
      c === 10 ||
      c === 13 ||
      c === 92; // \ (escaped line breaks in JSON text)
    if (!ok) return false;
  }
  return true;
}

/** Where the END line that closes a block found at `endAt` (`-----END`) stops, or -1. */
function endOfEndLine(text: string, endAt: number, limit: number): number {
  const close = text.indexOf("-----", endAt + 8);
  return close === -1 || close + 5 > limit ? -1 : close + 5;
}

/**
 * The next `-----END` at or after a position. Positions asked for only grow during one scan, so the
 * answer is reused while it lies ahead: many BEGINs without END cost one pass, not one each.
 */
class EndLines {
  private at = -2;
  constructor(private readonly text: string) {}
  from(position: number): number {
    if (this.at === -2 || (this.at !== -1 && this.at < position))
      this.at = this.text.indexOf("-----END", position);
    return this.at;
  }
}

const pemBegin = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----/g;

/**
 * PEM private key blocks (RSA, EC, OPENSSH, ENCRYPTED, PGP ... PRIVATE KEY), BEGIN to END line, as
 * one `[REDACTED_SECRET]`. A block without its END line is redacted to the end of its JSON string
 * (or of the text), and the JSON strings right after it that look like more key lines are redacted
 * too: Checkov's `code_block` puts every line of a manifest in its own string.
 */
export const privateKeyRule: StringRule = {
  name: "pem-private-key",
  kinds: ["private_key"],
  needs: DASH,
  needsAny: 0,
  minLength: 27,
  find(text: string, out: Matches, env: RuleEnv): void {
    // "BEGIN" first: a search is as slow as its first character is common, and "-" is very common.
    if (text.indexOf("BEGIN") === -1 || text.indexOf("-----BEGIN") === -1) return;
    pemBegin.lastIndex = 0;
    const ends = new EndLines(text);
    for (let m = pemBegin.exec(text); m !== null; m = pemBegin.exec(text)) {
      const start = m.index;
      const afterBegin = pemBegin.lastIndex;
      const quote = nextUnescapedQuote(text, afterBegin);
      const limit = quote === -1 ? text.length : quote;
      const endAt = ends.from(afterBegin);
      const end = endAt === -1 || endAt >= limit ? -1 : endOfEndLine(text, endAt, limit);
      if (end !== -1) {
        out.add(start, end, placeholders.secret, "private_key");
        pemBegin.lastIndex = end;
        continue;
      }
      out.add(start, limit, placeholders.secret, "private_key");
      if (quote === -1) {
        env.pemUnterminated = true;
        return;
      }
      pemBegin.lastIndex = continueInJsonStrings(text, quote + 1, out, ends);
    }
  },
};

function continueInJsonStrings(text: string, from: number, out: Matches, ends: EndLines): number {
  let p = from;
  for (;;) {
    const open = nextUnescapedQuote(text, p);
    if (open === -1) return text.length;
    const close = nextUnescapedQuote(text, open + 1);
    if (close === -1) {
      out.add(open + 1, text.length, placeholders.secret, "private_key");
      return text.length;
    }
    const endAt = ends.from(open + 1);
    if (endAt !== -1 && endAt < close) {
      const end = endOfEndLine(text, endAt, close);
      const stop = end === -1 ? close : end;
      out.add(open + 1, stop, placeholders.secret, "private_key");
      return stop;
    }
    if (!looksLikePemBody(text, open + 1, close)) return open;
    out.add(open + 1, close, placeholders.secret, "private_key");
    p = close + 1;
  }
}

/** Adds every match of `pattern` (global) as `replacement`; trailing dots are left out. */
function addAll(text: string, pattern: RegExp, out: Matches, replacement: string, kind: RedactionKind): void {
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    let end = m.index + m[0].length;
    while (end > m.index && text.charCodeAt(end - 1) === 46) end--;
    out.add(m.index, end, replacement, kind);
  }
}

/** A JWT header is a small JSON object: bounding it keeps a long `eyJeyJeyJ…` run linear. */
const jwtPattern = /eyJ[A-Za-z0-9_-]{2,512}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}/g;

/** JSON Web Tokens (JWS `h.p.s`, unsigned `h.p.`, JWE with five parts): `[REDACTED_TOKEN]`. */
export const jwtRule: StringRule = {
  name: "jwt",
  kinds: ["jwt"],
  needs: DOT,
  needsAny: 0,
  minLength: 9,
  find(text, out) {
    // "yJ", not "eyJ": a search is as slow as its first character is common ("e" is the commonest).
    if (text.indexOf("yJ") === -1) return;
    addAll(text, jwtPattern, out, placeholders.token, "jwt");
  },
};

const slackPattern = /xox[abposre]-[A-Za-z0-9-]{8,}|xapp-\d{1,3}-[A-Za-z0-9-]{8,}/g;

/** Slack tokens: bot/user/app/refresh (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxe-`, `xoxo-`) and app-level `xapp-`. */
export const slackTokenRule: StringRule = {
  name: "slack-token",
  kinds: ["slack_token"],
  needs: DASH,
  needsAny: 0,
  minLength: 13,
  find(text, out) {
    if (text.indexOf("xox") === -1 && text.indexOf("xapp-") === -1) return;
    addAll(text, slackPattern, out, placeholders.slackToken, "slack_token");
  },
};

/**
 * True when `prefix` (sticky) matches at an occurrence of `start` in `text`. A pre-check for a global
 * pattern: "gh" and "gl" occur in ordinary words ("high", "glibc"), and running the token pattern
 * over a whole body because of them costs a few µs per 10 KB; checking the few occurrences costs
 * almost nothing.
 */
function hasPrefixAt(text: string, start: string, prefix: RegExp): boolean {
  for (let i = text.indexOf(start); i !== -1; i = text.indexOf(start, i + 1)) {
    prefix.lastIndex = i;
    if (prefix.test(text)) return true;
  }
  return false;
}

const githubPrefix = /gh[pousr]_/y;
const githubPattern = /gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}/g;

/** GitHub tokens: classic `ghp_ gho_ ghu_ ghs_ ghr_` and fine-grained `github_pat_`. */
export const githubTokenRule: StringRule = {
  name: "github-token",
  kinds: ["github_token"],
  needs: UNDERSCORE,
  needsAny: 0,
  minLength: 24,
  find(text, out) {
    // "_pat_", not "github_pat_": "g" is far more common than "_" as a first character to search for.
    if (!hasPrefixAt(text, "gh", githubPrefix) && text.indexOf("_pat_") === -1) return;
    addAll(text, githubPattern, out, placeholders.githubToken, "github_token");
  },
};

const gitlabPrefix = /gl(?:pat|dt|rt|rtr|cbt|ptt|ft|imt|agent|oas|soat|ffct|wt|uat|sst)-/y;
const gitlabPattern =
  /gl(?:pat|dt|rt|rtr|cbt|ptt|ft|imt|agent|oas|soat|ffct|wt|uat|sst)-[A-Za-z0-9_.-]{20,}|GR1348941[A-Za-z0-9_-]{20,}/g;

/**
 * GitLab tokens by prefix: personal/project/group access `glpat-`, deploy `gldt-`, runner `glrt-`,
 * CI job `glcbt-`, trigger `glptt-`, feed `glft-`, incoming mail `glimt-`, agent `glagent-`, OAuth
 * secret `gloas-`, SCIM `glsoat-`, feature flags `glffct-`, and legacy runner registration `GR1348941`.
 */
export const gitlabTokenRule: StringRule = {
  name: "gitlab-token",
  kinds: ["gitlab_token"],
  needs: 0,
  needsAny: DASH | UPPER,
  minLength: 25,
  find(text, out) {
    if (!hasPrefixAt(text, "gl", gitlabPrefix) && text.indexOf("GR1348941") === -1) return;
    addAll(text, gitlabPattern, out, placeholders.gitlabToken, "gitlab_token");
  },
};

/** Second to fourth characters of AWS access key id prefixes (`AKIA`, `ASIA`, `AROA`, … and `A3T?`). */
const awsPrefixes: ReadonlySet<string> = new Set([
  "KIA",
  "SIA",
  "BIA",
  "CCA",
  "GPA",
  "IDA",
  "IPA",
  "NPA",
  "NVA",
  "PKA",
  "ROA",
  "SCA",
]);

function isUpperOrDigit(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}
function isAlnum(c: number): boolean {
  return isUpperOrDigit(c) || (c >= 97 && c <= 122);
}

/** AWS access key ids (`AKIA…`, `ASIA…` and the other IAM unique-id prefixes, 20 characters): `[REDACTED_API_KEY]`. */
export const awsKeyIdRule: StringRule = {
  name: "aws-access-key-id",
  kinds: ["aws_key"],
  needs: UPPER,
  needsAny: 0,
  minLength: 20,
  find(text, out) {
    const last = text.length - 20;
    for (let i = text.indexOf("A"); i !== -1 && i <= last; i = text.indexOf("A", i + 1)) {
      if (i > 0 && isAlnum(text.charCodeAt(i - 1))) continue;
      if (i + 20 < text.length && isAlnum(text.charCodeAt(i + 20))) continue;
      const prefix = text.slice(i + 1, i + 4);
      if (!awsPrefixes.has(prefix) && !(prefix.startsWith("3T") && isUpperOrDigit(prefix.charCodeAt(2))))
        continue;
      let ok = true;
      for (let j = i + 4; j < i + 20; j++) {
        if (!isUpperOrDigit(text.charCodeAt(j))) {
          ok = false;
          break;
        }
      }
      if (ok) out.add(i, i + 20, placeholders.apiKey, "aws_key");
    }
  },
};

const stripePattern = /(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{16,}/g;

/** Stripe secret and restricted keys (`sk_live_`, `sk_test_`, `rk_…`) and webhook secrets (`whsec_`). */
export const stripeKeyRule: StringRule = {
  name: "stripe-key",
  kinds: ["stripe_key"],
  needs: UNDERSCORE,
  needsAny: 0,
  minLength: 18,
  find(text, out) {
    if (text.indexOf("k_") === -1 && text.indexOf("whsec_") === -1) return;
    addAll(text, stripePattern, out, placeholders.apiKey, "stripe_key");
  },
};
