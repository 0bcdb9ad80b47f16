/**
 * What a Kubernetes namespace becomes: `[REDACTED_NAMESPACE]`, or in hash mode `ns-<10 hex>`, the
 * first 40 bits of HMAC-SHA256(tenant key, name). The hash is stable (the same namespace is the same
 * label in every delivery, so people can still group and route by it) and, without the key, neither
 * reversible nor guessable by hashing a list of likely names. Allowlisted namespaces (exact names or
 * `prefix*`) pass through unchanged.
 */
import { createHmac } from "node:crypto";
import { placeholders } from "./kinds.ts";

export type NamespaceMode = "redact" | "hash";

export interface NamespaceLabeler {
  readonly mode: NamespaceMode;
  /** True when `name` passes through. */
  isAllowed(name: string): boolean;
  /** The replacement for `name`, or `undefined` when it is allowlisted. */
  replacementFor(name: string): string | undefined;
}

/** Hex digits kept from the HMAC: 40 bits, so collisions between a tenant's namespaces are negligible. */
export const namespaceHashHexLength = 10;
/** Shortest accepted hash key: 128 bits. */
export const minNamespaceHashKeyBytes = 16;
/** Most hashed labels remembered per policy before the cache is cleared. */
const hashCacheLimit = 10_000;

const hashedShape = /^ns-[0-9a-f]{10}$/;

/** True for a label this engine produced in hash mode; such values are not hashed again. */
export function isHashedNamespace(value: string): boolean {
  return value.length === 13 && hashedShape.test(value);
}

/** The keyed label of `name` (no allowlist, no cache). */
export function hashNamespace(name: string, key: Uint8Array): string {
  const hex = createHmac("sha256", key).update(name, "utf8").digest("hex");
  return `ns-${hex.slice(0, namespaceHashHexLength)}`;
}

export function createNamespaceLabeler(options: {
  readonly mode: NamespaceMode;
  readonly hashKey?: Uint8Array | undefined;
  readonly allow: readonly string[];
}): NamespaceLabeler {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of options.allow) {
    if (entry.endsWith("*")) prefixes.push(entry.slice(0, -1));
    else exact.add(entry);
  }
  const isAllowed = (name: string): boolean => {
    if (exact.has(name)) return true;
    for (const prefix of prefixes) if (name.startsWith(prefix)) return true;
    return false;
  };
  const mode = options.mode;
  if (mode === "redact") {
    return {
      mode,
      isAllowed,
      replacementFor: (name) => (isAllowed(name) ? undefined : placeholders.namespace),
    };
  }
  const key = options.hashKey;
  if (key === undefined) throw new TypeError("namespace hash mode needs a hash key");
  const keyCopy = Uint8Array.from(key);
  const cache = new Map<string, string | undefined>();
  return {
    mode,
    isAllowed,
    replacementFor(name) {
      const cached = cache.get(name);
      if (cached !== undefined || cache.has(name)) return cached;
      const label = isAllowed(name) ? undefined : hashNamespace(name, keyCopy);
      if (cache.size >= hashCacheLimit) cache.clear();
      cache.set(name, label);
      return label;
    },
  };
}

/**
 * Object keys whose string value is a namespace: `namespace`, `ns`, `k8s.ns.name`, and any key
 * ending in `namespace`/`namespaces` (`metadata.namespace`, `ka.target.namespace`,
 * `trivy-operator.resource.namespace`, `targetNamespace`) or in `.ns`/`_ns`.
 */
export function isNamespaceKey(key: string): boolean {
  const n = key.length;
  if (n < 2 || n > 80) return false;
  const lower = key.toLowerCase();
  return (
    lower === "ns" ||
    lower.endsWith("namespace") ||
    lower.endsWith("namespaces") ||
    lower === "k8s.ns.name" ||
    lower === "k8s_ns_name" ||
    lower.endsWith(".ns") ||
    lower.endsWith("_ns")
  );
}

const labelShape = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/i;

/** Shortest namespace whose free-text mentions are redacted (shorter ones match too many words). */
export const minMentionLength = 3;

/** True when `value` looks like a namespace name (a DNS-1123 label) worth learning for mentions. */
export function isMentionableNamespace(value: string): boolean {
  return value.length >= minMentionLength && labelShape.test(value) && !isHashedNamespace(value);
}
