/**
 * The dry run behind `zen redact < file`: what each layer would redact in a document, for operators
 * tuning a policy. Reports kinds and locations only (JSON Pointer for the structured layer, offsets
 * for the text layer); the redacted output is included, the original secrets never are.
 */
import type { RedactionCounts } from "./kinds.ts";
import type { RedactionFinding } from "./matches.ts";
import type { CompiledRedactionPolicy } from "./policy.ts";
import { redactText } from "./redact-text.ts";
import { type RedactionContext, redactValue } from "./redact-value.ts";

export interface LayerReport<T> {
  readonly output: T;
  readonly counts: RedactionCounts;
  readonly findings: readonly RedactionFinding[];
}

export interface RedactionReport {
  /** Layer 1, when the input could be parsed (JSON by default). */
  readonly value: LayerReport<unknown> | undefined;
  /** Layer 2 on the raw input. */
  readonly text: LayerReport<string>;
}

/**
 * Runs both layers on `input`. `parse` turns the input into a value (default `JSON.parse`; pass a
 * YAML parser for YAML files); when it throws, only the text layer is reported.
 * @throws RedactionError like the layers themselves.
 */
export function explainRedaction(
  input: string,
  policy: CompiledRedactionPolicy,
  options: { readonly parse?: (text: string) => unknown; readonly knownNamespaces?: readonly string[] } = {},
): RedactionReport {
  const parse = options.parse ?? JSON.parse;
  let parsed: { readonly value: unknown } | undefined;
  try {
    parsed = { value: parse(input) };
  } catch {
    parsed = undefined;
  }
  const base: RedactionContext =
    options.knownNamespaces === undefined ? {} : { knownNamespaces: options.knownNamespaces };
  let value: LayerReport<unknown> | undefined;
  if (parsed !== undefined) {
    const findings: RedactionFinding[] = [];
    const result = redactValue(parsed.value, policy, { ...base, findings });
    value = { output: result.value, counts: result.counts, findings };
  }
  const findings: RedactionFinding[] = [];
  const result = redactText(input, policy, { ...base, findings });
  return { value, text: { output: result.text, counts: result.counts, findings } };
}
