/**
 * Redaction layer 2, the authoritative one: the final serialized request body (JSON, form, YAML or
 * plain text), just before it is sent.
 *
 * Threat: whatever layer 1 (`redactValue`) could not see: a template that concatenated fields,
 * re-encoded them (escaped slashes, `\uXXXX`, percent-encoding) or pulled in data by another path.
 * Only the string rules run here (no object structure), on the text and on its JSON-unescaped and
 * percent-decoded views, so `https:\/\/user:pass@host` and `alice%40example.com` are caught; every
 * replacement covers whole escape sequences and never a structural JSON quote, so a valid JSON body
 * stays valid JSON. Kubernetes Secret manifests written as JSON or YAML text are recognised too.
 */
import { countsOf, type RedactionCounts } from "./kinds.ts";
import type { CompiledRedactionPolicy } from "./policy.ts";
import { type RedactionContext, redactionFailure } from "./redact-value.ts";
import { RedactionError } from "./redaction-error.ts";
import { createScanRun, scanFlags, scanString } from "./scan-string.ts";

export interface RedactedText {
  readonly text: string;
  /** Redactions per kind, for `zen_redactions_total{tenant,kind}`. */
  readonly counts: RedactionCounts;
}

/**
 * Redacts `text` under `policy`. Namespaces found in it (and `ctx.knownNamespaces`) are also redacted
 * where merely mentioned.
 * @throws RedactionError (code `redaction_failed`) on any internal failure: never a partial result.
 */
export function redactText(
  text: string,
  policy: CompiledRedactionPolicy,
  ctx: RedactionContext = {},
): RedactedText {
  try {
    if (typeof text !== "string") throw new RedactionError("redactText needs a string");
    const run = createScanRun(policy, ctx.knownNamespaces, ctx.findings);
    const out = scanString(text, run, policy.redactMentions ? scanFlags.mentions : 0, undefined, "text");
    return { text: out, counts: countsOf(run.tally) };
  } catch (err) {
    throw redactionFailure(err);
  }
}
