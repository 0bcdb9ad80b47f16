/**
 * Small compile steps several node kinds share: values that may be written literally or as a secret
 * reference, and the timeout-below-lease rule every destination follows.
 */
import type { CompileContext } from "./compile-context.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { looksLikeSecretRef, parseSecretRef, resolveSecret, type SecretSources } from "./secrets.ts";
import { describeMs } from "./values.ts";

/** A value as written, or the value a reference points to. */
export interface LiteralOrRef {
  readonly text: string;
  /** True when the value came from `env:`/`file:`; then it may hold credentials and is never echoed. */
  readonly fromRef: boolean;
}

/**
 * `raw` itself, or the value of the `env:NAME` / `file:/path` it is written as (trimmed: a URL or
 * name read from a file carries no meaningful whitespace).
 * @returns undefined after recording why the reference does not resolve
 */
export function resolveLiteralOrRef(
  raw: string,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): LiteralOrRef | undefined {
  if (!looksLikeSecretRef(raw)) return { text: raw, fromRef: false };
  const ref = parseSecretRef(raw);
  const resolved = ref.ok ? resolveSecret(ref.value, sources) : ref;
  if (!resolved.ok) {
    problems.at(path, resolved.message);
    return undefined;
  }
  return { text: resolved.value.trim(), fromRef: true };
}

/**
 * A destination's `timeoutMs` must stay below the worker lease: a send still running when the lease
 * ends is handed to a second worker (a duplicate delivery).
 */
export function checkTimeoutBelowLease(
  timeoutMs: number,
  path: FieldPath,
  ctx: Pick<CompileContext, "leaseMs">,
  problems: Problems,
): void {
  if (timeoutMs < ctx.leaseMs) return;
  problems.at(
    path,
    `must be below the worker lease (ZEN_LEASE_MS = ${describeMs(ctx.leaseMs)}): a send still running when the lease ends is handed to a second worker`,
  );
}
