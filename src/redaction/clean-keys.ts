/**
 * Object keys that a policy's string rules found nothing in, remembered per policy so layer 1 does not
 * scan them again. Events of one source repeat the same few hundred keys (`output_fields` names,
 * Trivy's `vulnerabilityID`, `installedVersion`, …), and keys were about a third of layer 1's time.
 *
 * Why skipping is safe: scanning a key (`scanString` with no flags: no mentions, not structured) is a
 * pure function of the key and the compiled policy, which is immutable. A scan that reports no
 * finding has no side effect either: a rule learns a namespace, or marks an unterminated PEM block,
 * only together with a finding. So a key found clean once is clean every time under the same policy,
 * and skipping its scan changes neither the output nor the counts. What this does not cover, and
 * does not skip: learned-namespace mentions in keys (the second pass of `redactValue`, which depends
 * on the event) and values (their scan depends on the previous string: a PEM block may continue).
 * Layer 2 still scans the whole serialized body, keys included.
 */
import type { CompiledRedactionPolicy } from "./policy.ts";

/** Bounds: longer keys are scanned every time; a policy's set is emptied when it is full. */
export const cleanKeyLimits = { maxKeyLength: 100, maxEntries: 20_000 } as const;

const byPolicy = new WeakMap<CompiledRedactionPolicy, Set<string>>();

/** The set of keys known clean under `policy` (created on first use). */
export function cleanKeysOf(policy: CompiledRedactionPolicy): Set<string> {
  let keys = byPolicy.get(policy);
  if (keys === undefined) {
    keys = new Set();
    byPolicy.set(policy, keys);
  }
  return keys;
}

/** Remembers `key` as clean (a scan under the set's policy found nothing in it). */
export function rememberCleanKey(keys: Set<string>, key: string): void {
  if (key.length > cleanKeyLimits.maxKeyLength) return;
  if (keys.size >= cleanKeyLimits.maxEntries) keys.clear();
  keys.add(key);
}
