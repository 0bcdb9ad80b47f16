/**
 * Compiles a tenant's `redaction:` block into its `CompiledRedactionPolicy`, once, at load. The hash
 * key of namespace hashing is a secret reference (it must stay out of the file: whoever has it can
 * test guesses against `ns-<hash>` labels). The engine's own checks (short key, bad allowlist entry,
 * an extra pattern that is invalid or could backtrack catastrophically) come back as problem lines
 * re-based onto the YAML path (`tenants[0].redaction.extraPatterns[1].pattern: …`).
 */
import { ConfigError } from "../domain/errors.ts";
import type { CompiledRedactionPolicy, RedactionPolicyOptions } from "../redaction/policy.ts";
import { compileRedactionPolicy } from "../redaction/policy.ts";
import { defaultRedactionPolicy } from "../redaction/redact-delivery.ts";
import { redactionSchema } from "./file-schema.ts";
import { compiledArtifact } from "./frozen.ts";
import { type FieldPath, formatPath, type Problems } from "./problems.ts";
import { resolveSecret, type SecretSources } from "./secrets.ts";
import { parseNode } from "./zod-issues.ts";

/**
 * @returns the tenant's policy (the default one when `raw` is undefined), or undefined after
 *   recording its problems.
 */
export function compileTenantRedaction(
  raw: unknown,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): CompiledRedactionPolicy | undefined {
  if (raw === undefined) return compiledArtifact(defaultRedactionPolicy());
  const node = parseNode(redactionSchema, raw, path, problems);
  if (!node) return undefined;

  let hashKey: Uint8Array | undefined;
  const keyRef = node.namespaces?.hashKey;
  if (keyRef !== undefined) {
    const resolved = resolveSecret(keyRef, sources);
    if (!resolved.ok) {
      problems.at([...path, "namespaces", "hashKey"], resolved.message);
      return undefined;
    }
    hashKey = Buffer.from(resolved.value, "utf8");
  }
  const namespaces = node.namespaces;
  const options: RedactionPolicyOptions = {
    ...(node.rules !== undefined && { rules: node.rules as RedactionPolicyOptions["rules"] }),
    namespaces: {
      mode: namespaces?.mode ?? "redact",
      allow: namespaces?.allow ?? [],
      ...(hashKey !== undefined && { hashKey }),
      ...(namespaces?.mentions !== undefined && { mentions: namespaces.mentions }),
    },
    ...(node.extraPatterns !== undefined && {
      extraPatterns: node.extraPatterns.map((p) => ({
        name: p.name,
        pattern: p.pattern,
        ...(p.replacement !== undefined && { replacement: p.replacement }),
        ...(p.flags !== undefined && { flags: p.flags }),
      })),
    }),
  };
  try {
    return compiledArtifact(compileRedactionPolicy(options));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const line of err.problems) addRebased(line, path, problems);
    return undefined;
  }
}

/** `namespaces.hashKey: …` from the engine → `tenants[0].redaction.namespaces.hashKey: …`. */
function addRebased(line: string, path: FieldPath, problems: Problems): void {
  const at = line.indexOf(": ");
  if (at === -1) {
    problems.at(path, line);
    return;
  }
  const field = line.slice(0, at);
  problems.add(`${formatPath(path)}${field.startsWith("[") ? "" : "."}${field}`, line.slice(at + 2));
}
