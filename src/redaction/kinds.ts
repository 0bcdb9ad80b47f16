/**
 * The redaction vocabulary: what the engine finds (`RedactionKind`, also the `kind` label of
 * `zen_redactions_total{tenant,kind}`) and the fixed placeholders it puts in place of what it found.
 * Placeholders are constant strings on purpose: nothing about the secret (length, prefix, hash)
 * survives in them. The only exception is the opt-in keyed namespace hash (`ns-<hmac>`), which is
 * stable but not reversible without the tenant's key.
 */

/** Every kind, in a stable order (docs, metrics, dry-run reports). */
export const redactionKinds = [
  "email",
  "api_key",
  "secret",
  "token",
  "slack_token",
  "github_token",
  "gitlab_token",
  "url",
  "ip",
  "namespace",
  "aws_key",
  "jwt",
  "private_key",
  "stripe_key",
  "kubernetes_secret",
  "custom",
] as const;

/** What was redacted. A finding is redacted only when its kind is enabled in the tenant's policy. */
export type RedactionKind = (typeof redactionKinds)[number];

/** The placeholders, exactly as the seed's table names them (plus `[REDACTED]` for extra patterns). */
export const placeholders = {
  email: "[REDACTED_EMAIL]",
  apiKey: "[REDACTED_API_KEY]",
  secret: "[REDACTED_SECRET]",
  token: "[REDACTED_TOKEN]",
  slackToken: "[REDACTED_SLACK_TOKEN]",
  githubToken: "[REDACTED_GITHUB_TOKEN]",
  gitlabToken: "[REDACTED_GITLAB_TOKEN]",
  url: "[REDACTED_URL]",
  ip: "[REDACTED_IP]",
  namespace: "[REDACTED_NAMESPACE]",
  /** Default replacement of an extra (tenant-defined) pattern. */
  custom: "[REDACTED]",
} as const;

/** Redactions per kind; kinds with no redaction are absent. */
export type RedactionCounts = { readonly [K in RedactionKind]?: number };

/** Mutable counts, e.g. to add up both layers of one delivery (`addRedactionCounts`). */
export type MutableRedactionCounts = { -readonly [K in RedactionKind]?: number };

/** Position of each kind in `redactionKinds`: the index of its counter in a `Tally`. */
export const kindIndex: Readonly<Record<RedactionKind, number>> = Object.freeze(
  Object.fromEntries(redactionKinds.map((kind, i) => [kind, i])) as Record<RedactionKind, number>,
);

/** Counters while a redaction runs, one per kind (a fixed-shape array keeps the hot path monomorphic). */
export type Tally = Int32Array;

export function newTally(): Tally {
  return new Int32Array(redactionKinds.length);
}

/** The non-zero counters of `tally`, in `redactionKinds` order. */
export function countsOf(tally: Tally): RedactionCounts {
  const counts: MutableRedactionCounts = {};
  for (let i = 0; i < redactionKinds.length; i++) {
    const n = tally[i] as number;
    if (n > 0) counts[redactionKinds[i] as RedactionKind] = n;
  }
  return counts;
}

const kindSet: ReadonlySet<string> = new Set(redactionKinds);

/** Type guard for kind names coming from configuration. */
export function isRedactionKind(value: unknown): value is RedactionKind {
  return typeof value === "string" && kindSet.has(value);
}

/** Sum of all counts. */
export function totalRedactions(counts: RedactionCounts): number {
  let total = 0;
  for (const kind of redactionKinds) total += counts[kind] ?? 0;
  return total;
}

/** Adds `from` into `into` (e.g. both layers of one delivery into one metric update). */
export function addRedactionCounts(into: MutableRedactionCounts, from: RedactionCounts): void {
  for (const kind of redactionKinds) {
    const n = from[kind];
    if (n !== undefined && n > 0) into[kind] = (into[kind] ?? 0) + n;
  }
}

const placeholderShape = /^\[REDACTED(?:_[A-Z0-9_]{1,40})?\]$/;

/**
 * True for a placeholder this engine (or an earlier pass of it) wrote. Rules skip such values, so
 * redacting twice gives the same result as redacting once (the second layer sees the first's output).
 */
export function isPlaceholder(value: string): boolean {
  return value.length <= 50 && value.charCodeAt(0) === 91 /* [ */ && placeholderShape.test(value);
}
