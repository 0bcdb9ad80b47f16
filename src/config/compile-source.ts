/**
 * Compiles one `sources[]` entry into a SourceConfig: the verifier (a preset, a custom `verify:`
 * block, or an explicit `verify: none`), the event id/type locations, accepted content types, the
 * intake rate limit (YAML `rateLimit:` → `intakeRateLimit`) and the resolved secrets. A source with
 * no verifier is refused: DESIGN.md §6 "refuse a source with no verifier unless it is explicitly
 * `verify: none`".
 */
import { ConfigError } from "../domain/errors.ts";
import { presetProfile } from "../intake/verify/presets.ts";
import type { FieldRef, Scheme, SourceProfile } from "../intake/verify/spec.ts";
import { compileVerifier } from "../intake/verify/verifier.ts";
import type { CompileContext } from "./compile-context.ts";
import { compileVerify } from "./compile-verify.ts";
import type { SourceConfig, SourceFieldsConfig } from "./config.ts";
import { sourceSchema } from "./file-schema.ts";
import { type FieldPath, formatPath, type Problems } from "./problems.ts";
import { resolveSecret, type SecretRef, type SecretSources } from "./secrets.ts";
import { parseNode } from "./zod-issues.ts";

/** Media types accepted when neither the preset nor the source says otherwise. */
const defaultContentTypes = ["application/json"] as const;

/**
 * @param raw the YAML node; `path` locates it for problem lines
 * @returns the source, or undefined after recording its problems (every problem of the node is
 *   recorded, not only the first)
 */
export function compileSource(
  raw: unknown,
  path: FieldPath,
  tenant: string,
  ctx: CompileContext,
  problems: Problems,
): SourceConfig | undefined {
  const node = parseNode(sourceSchema, raw, path, problems);
  if (!node) return undefined;
  const before = problems.count;

  // The preset's or the verify block's profile, before the source's own overrides.
  let base: Omit<SourceProfile, "contentTypes"> & Partial<Pick<SourceProfile, "contentTypes">>;
  if (node.preset !== undefined && node.verify !== undefined) {
    problems.at(path, "set either preset or verify, not both");
    return undefined;
  }
  if (node.preset !== undefined) {
    // A copy: the preset table's arrays are shared module constants, and the Config gets frozen.
    base = structuredClone(presetProfile(node.preset, ctx.toleranceSeconds));
    if (node.toleranceSeconds !== undefined) {
      const scheme = withTolerance(base.scheme, node.toleranceSeconds);
      if (scheme) base = { ...base, scheme };
      else
        problems.at([...path, "toleranceSeconds"], `preset ${node.preset} has no signed timestamp to check`);
    }
  } else if (node.verify !== undefined) {
    const verifyPath = [...path, "verify"];
    const compiled = compileVerify(
      node.verify,
      verifyPath,
      node.toleranceSeconds ?? ctx.toleranceSeconds,
      problems,
    );
    if (!compiled) return undefined;
    if (node.toleranceSeconds !== undefined) {
      if (compiled.setsTolerance) {
        problems.at([...path, "toleranceSeconds"], "set toleranceSeconds here or in verify, not both");
      } else if (!withTolerance(compiled.scheme, node.toleranceSeconds)) {
        problems.at([...path, "toleranceSeconds"], "this verify scheme has no signed timestamp to check");
      }
    }
    base = {
      scheme: compiled.scheme,
      ...(compiled.eventId && { eventId: compiled.eventId }),
      ...(compiled.eventType && { eventType: compiled.eventType }),
    };
  } else {
    problems.at(path, "no verifier; set preset, verify, or verify: none");
    return undefined;
  }

  const secrets = resolveSourceSecrets(
    node.secrets,
    base.scheme,
    [...path, "secrets"],
    ctx.secrets,
    problems,
  );
  if (problems.count > before || !secrets) return undefined;

  const eventId = node.eventId ? fieldRef(node.eventId) : base.eventId;
  const eventType = node.eventType ? fieldRef(node.eventType) : base.eventType;
  const profile: SourceProfile = {
    scheme: base.scheme,
    ...(eventId && { eventId }),
    ...(eventType && { eventType }),
    contentTypes: node.contentTypes ?? base.contentTypes ?? [...defaultContentTypes],
  };
  for (const line of verifierProblems(profile, secrets, path)) problems.add(line.location, line.message);
  if (problems.count > before) return undefined;
  return {
    id: node.id,
    tenant,
    ...(node.preset !== undefined && { preset: node.preset }),
    profile,
    secrets,
    ...(node.rateLimit && { intakeRateLimit: node.rateLimit }),
    ...(node.fields && { fields: sourceFields(node.fields) }),
  };
}

/**
 * Compiles the verifier exactly as intake will at startup (keys decoded, template parsed), so a config
 * that loads is one intake accepts, and intake's rules (e.g. key encodings) live in one place.
 * Its problem lines are re-based onto the source's path.
 */
function verifierProblems(
  profile: SourceProfile,
  secrets: readonly string[],
  path: FieldPath,
): { location: string; message: string }[] {
  const sourcePath = formatPath(path);
  try {
    compileVerifier(profile, secrets, { configPath: `${sourcePath}.verify` });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((line) => {
      // Secret problems come back as `secrets[i]: …`, relative to the source.
      const full = line.startsWith("secrets[") ? `${sourcePath}.${line}` : line;
      const colon = full.indexOf(": ");
      return colon < 0
        ? { location: sourcePath, message: full }
        : { location: full.slice(0, colon), message: full.slice(colon + 2) };
    });
  }
}

/** The scheme with its timestamp window replaced, or undefined when it checks no timestamp. */
function withTolerance(scheme: Scheme, toleranceSeconds: number): Scheme | undefined {
  if (scheme.kind !== "hmac" || !scheme.timestamp) return undefined;
  return { ...scheme, timestamp: { ...scheme.timestamp, toleranceSeconds } };
}

function fieldRef(ref: { header?: string | undefined; jsonPath?: string | undefined }): FieldRef {
  return ref.header !== undefined ? { header: ref.header } : { jsonPath: ref.jsonPath ?? "" };
}

/**
 * Resolves the source's secrets. `verify: none` takes none (listing some signals a misunderstanding);
 * every other scheme needs at least one. (Whether each decodes as a key is checked by `verifierProblems`.)
 */
function resolveSourceSecrets(
  refs: readonly SecretRef[] | undefined,
  scheme: Scheme,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): string[] | undefined {
  if (scheme.kind === "none") {
    if (refs && refs.length > 0) problems.at(path, "verify: none uses no secrets; remove secrets");
    return [];
  }
  if (!refs || refs.length === 0) {
    problems.at(
      path,
      "required: at least one env:NAME or file:/path (several = rotation, any one may match)",
    );
    return undefined;
  }
  const values: string[] = [];
  refs.forEach((ref, i) => {
    const resolved = resolveSecret(ref, sources);
    if (!resolved.ok) {
      problems.at([...path, i], resolved.message);
      return;
    }
    values.push(resolved.value);
  });
  return values.length === refs.length ? values : undefined;
}

function sourceFields(fields: {
  severity?: { header?: string; jsonPath?: string };
  subject?: { header?: string; jsonPath?: string };
  category?: { header?: string; jsonPath?: string };
  fingerprint?: { header?: string; jsonPath?: string };
}): SourceFieldsConfig {
  const out: { -readonly [K in keyof SourceFieldsConfig]: SourceFieldsConfig[K] } = {};
  for (const name of ["severity", "subject", "category", "fingerprint"] as const) {
    const ref = fields[name];
    if (ref) out[name] = fieldRef(ref);
  }
  return out;
}
