/**
 * Parsing a signature header into entries: `sha256=<hex>` (GitHub), `t=…,v1=…,v1=…,v0=…` (Stripe),
 * `v1=…,v1=…` (PagerDuty), `v1,… v1,… v1a,…` (Standard Webhooks). Entries without the expected
 * prefix are not signatures of this scheme and are skipped, never compared.
 */

/** The header's entries, trimmed, empty ones dropped. */
export function splitEntries(value: string, separator: string | undefined): string[] {
  const parts = separator === undefined ? [value] : value.split(separator);
  const entries: string[] = [];
  for (const part of parts) {
    const entry = part.trim();
    if (entry !== "") entries.push(entry);
  }
  return entries;
}

/** The digest texts of the entries that carry `prefix`, prefix removed, in header order. */
export function prefixedValues(entries: readonly string[], prefix: string): string[] {
  const values: string[] = [];
  for (const entry of entries) {
    if (entry.startsWith(prefix)) values.push(entry.slice(prefix.length));
  }
  return values;
}

/** Result of looking up a `key=value` entry (Stripe's `t`). */
export type KeyLookup =
  | { readonly kind: "absent" }
  | { readonly kind: "repeated" }
  | { readonly kind: "found"; readonly value: string };

/** The value of the single `key=value` entry among `entries`. */
export function keyedValue(entries: readonly string[], key: string): KeyLookup {
  const marker = `${key}=`;
  let found: string | undefined;
  for (const entry of entries) {
    if (!entry.startsWith(marker)) continue;
    if (found !== undefined) return { kind: "repeated" };
    found = entry.slice(marker.length);
  }
  return found === undefined ? { kind: "absent" } : { kind: "found", value: found };
}
