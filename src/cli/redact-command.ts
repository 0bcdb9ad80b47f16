/**
 * `zen redact [--tenant T] [--format json|yaml|text] < file`: the dry run operators tune a policy
 * with. It redacts a document the way a delivery would (layer 1 on the parsed document, then layer 2
 * on its serialization; text: layer 2 only) with a tenant's policy, prints the redacted document on
 * stdout and, on stderr, what was redacted: kinds and locations (JSON Pointers, line:col), never
 * the redacted values themselves.
 */
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import type { Config } from "../config/config.ts";
import { describeRedaction } from "../config/summary.ts";
import { explainRedaction } from "../redaction/explain.ts";
import { type RedactionCounts, redactionKinds } from "../redaction/kinds.ts";
import type { RedactionFinding } from "../redaction/matches.ts";
import type { CompiledRedactionPolicy } from "../redaction/policy.ts";
import { defaultRedactionPolicy } from "../redaction/redact-delivery.ts";
import { redactText } from "../redaction/redact-text.ts";

/** How the input is read: parsed as JSON or YAML (both layers), or as plain text (layer 2 only). */
export type RedactFormat = "json" | "yaml" | "text";
export const redactFormats: readonly RedactFormat[] = ["json", "yaml", "text"];

/** The tenant whose policy is used when `--tenant` is not given (when the config has it). */
const defaultTenant = "default";

export interface DryRun {
  /** The redacted document: what a destination would be sent. */
  readonly output: string;
  /** Human lines for stderr: the policy, then each layer's counts and locations. */
  readonly report: readonly string[];
}

/**
 * The policy of `tenant` (default: tenant `default` when configured, else the default policy).
 * @throws Error with a user-facing message when `tenant` was asked for and is not configured.
 */
export function policyFor(
  config: Pick<Config, "tenants">,
  tenant: string | undefined,
): { readonly policy: CompiledRedactionPolicy; readonly source: string } {
  if (tenant !== undefined) {
    const found = config.tenants.get(tenant);
    if (!found) throw new Error(`no tenant "${tenant}" in the configuration`);
    return { policy: found.redaction, source: `tenant ${tenant}` };
  }
  const fallback = config.tenants.get(defaultTenant);
  if (fallback) return { policy: fallback.redaction, source: `tenant ${defaultTenant}` };
  return { policy: defaultRedactionPolicy(), source: "the default policy (no tenant given)" };
}

/**
 * Runs both layers on `input` under `policy`. A document that does not parse in its format is
 * redacted as text instead (and the report says so).
 * @throws RedactionError (code `redaction_failed`) when the engine fails.
 */
export function dryRunRedaction(
  input: string,
  policy: CompiledRedactionPolicy,
  format: RedactFormat,
): DryRun {
  const report: string[] = [];
  if (format !== "text") {
    const parse = format === "json" ? JSON.parse : (text: string) => parseYaml(text) as unknown;
    const explained = explainRedaction(input, policy, { parse });
    const layer1 = explained.value;
    if (layer1 !== undefined) {
      report.push(...describeLayer(`layer 1 (structured, ${format})`, layer1.counts, layer1.findings, input));
      const serialized =
        format === "json" ? `${JSON.stringify(layer1.output, null, 2)}\n` : stringifyYaml(layer1.output);
      const findings: RedactionFinding[] = [];
      const layer2 = redactText(serialized, policy, { findings });
      report.push(
        ...describeLayer("layer 2 (text, on the layer 1 output)", layer2.counts, findings, serialized),
      );
      return { output: layer2.text, report };
    }
    report.push(`the input is not valid ${format.toUpperCase()}: redacted as text (layer 2 only)`);
    // explainRedaction already ran the text layer on the input: report that result.
    const text = explained.text;
    report.push(...describeLayer("layer 2 (text)", text.counts, text.findings, input));
    return { output: text.output, report };
  }
  const findings: RedactionFinding[] = [];
  const result = redactText(input, policy, { findings });
  report.push(...describeLayer("layer 2 (text)", result.counts, findings, input));
  return { output: result.text, report };
}

/** `layer …: 3 redactions (token 1, namespace 2)` and one indented line per finding. */
function describeLayer(
  name: string,
  counts: RedactionCounts,
  findings: readonly RedactionFinding[],
  text: string,
): string[] {
  const kinds = redactionKinds.filter((k) => (counts[k] ?? 0) > 0).map((k) => `${k} ${counts[k]}`);
  const total = findings.length;
  if (total === 0 && kinds.length === 0) return [`${name}: nothing redacted`];
  const lines = [`${name}: ${total} redaction${total === 1 ? "" : "s"} (${kinds.join(", ")})`];
  for (const f of findings) lines.push(`  ${f.kind} ${where(f, text)}`);
  return lines;
}

function where(finding: RedactionFinding, text: string): string {
  if (finding.target === "key") return `in a key of ${finding.path === "" ? "the top level" : finding.path}`;
  if (finding.target === "value") return `at ${finding.path === "" ? "the top level" : finding.path}`;
  const before = text.slice(0, finding.start);
  const line = before.split("\n").length;
  const column = finding.start - before.lastIndexOf("\n");
  return `at ${line}:${column}`;
}

/** The report's first line: which policy was used. */
export function policyLine(source: string, policy: CompiledRedactionPolicy): string {
  return `redacting with ${source}: ${describeRedaction(policy)}`;
}
