/**
 * A tenant's redaction policy: options in (from the YAML), a compiled, frozen policy out, built once
 * at startup. Compiling validates everything (unknown kinds, a missing or short hash key, bad extra
 * patterns) and throws a `ConfigError` naming each field, so a bad policy stops startup instead of
 * failing deliveries.
 */
import { ConfigError } from "../domain/errors.ts";
import { type CompiledExtraPattern, compileExtraPattern, type ExtraPatternOptions } from "./extra-pattern.ts";
import { isRedactionKind, type RedactionKind, redactionKinds } from "./kinds.ts";
import {
  createNamespaceLabeler,
  minNamespaceHashKeyBytes,
  type NamespaceLabeler,
  type NamespaceMode,
} from "./namespace-labeler.ts";
import type { StringRule } from "./rule.ts";
import {
  authorizationSchemeRule,
  commandLineRule,
  connectionStringRule,
  secretEntryRule,
  secretPairRule,
  userInfoRule,
} from "./rules/credentials.ts";
import { customPatternsRule } from "./rules/custom.ts";
import { kubernetesSecretTextRule } from "./rules/kubernetes-secret.ts";
import { namespaceRule } from "./rules/namespaces.ts";
import { emailRule, ipRule, urlRule } from "./rules/network.ts";
import {
  awsKeyIdRule,
  githubTokenRule,
  gitlabTokenRule,
  jwtRule,
  privateKeyRule,
  slackTokenRule,
  stripeKeyRule,
} from "./rules/tokens.ts";

export interface NamespacePolicyOptions {
  /** `redact`: `[REDACTED_NAMESPACE]`; `hash`: `ns-<10 hex of HMAC-SHA256(hashKey, name)>`. */
  readonly mode: NamespaceMode;
  /** The tenant's key for `hash` mode: at least 16 bytes (e.g. 32 random bytes from a secret reference). */
  readonly hashKey?: Uint8Array;
  /** Namespaces that pass through: exact names, or prefixes ending in `*` (`kube-*`). */
  readonly allow: readonly string[];
  /**
   * Also redact bare mentions of a namespace found elsewhere in the same value or text (e.g. `prod`
   * in "secret accessed in prod ns" once `k8s.ns.name: prod` was seen). Default true.
   */
  readonly mentions?: boolean;
}

export interface RedactionPolicyOptions {
  /**
   * Kinds to redact; default: all of `redactionKinds`. A finding is redacted only when its own kind
   * is listed (e.g. `aws_secret_access_key=…` is `aws_key`, not `secret`; `token=…` is `secret`).
   */
  readonly rules?: readonly RedactionKind[];
  readonly namespaces: NamespacePolicyOptions;
  /** Tenant-defined patterns (kind `custom`); see `extra-pattern.ts` for what is accepted. */
  readonly extraPatterns?: readonly ExtraPatternOptions[];
}

/** A compiled policy: immutable, shareable between workers of one process, cheap to apply. */
export interface CompiledRedactionPolicy {
  readonly enabled: ReadonlySet<RedactionKind>;
  readonly namespaces: NamespaceLabeler;
  readonly redactMentions: boolean;
  /** String rules in priority order (on overlap, the earlier rule's placeholder wins). */
  readonly rules: readonly StringRule[];
  readonly extraPatternNames: readonly string[];
}

/** Built-in rules in priority order: specific shapes first, broad context rules last. */
const builtInRules: readonly StringRule[] = [
  privateKeyRule,
  jwtRule,
  slackTokenRule,
  githubTokenRule,
  gitlabTokenRule,
  awsKeyIdRule,
  stripeKeyRule,
  urlRule,
  kubernetesSecretTextRule,
  authorizationSchemeRule,
  secretPairRule,
  secretEntryRule,
  connectionStringRule,
  commandLineRule,
  userInfoRule,
  emailRule,
  ipRule,
  namespaceRule,
];

const allowEntry = /^[a-z0-9][-a-z0-9]{0,62}\*?$|^\*$/i;

/**
 * Compiles `options` into a policy.
 * @throws ConfigError (code `config_invalid`) with one `field: problem` line per problem.
 */
export function compileRedactionPolicy(options: RedactionPolicyOptions): CompiledRedactionPolicy {
  const problems: string[] = [];
  const rules = options.rules ?? redactionKinds;
  rules.forEach((kind, i) => {
    if (!isRedactionKind(kind)) problems.push(`rules[${i}]: unknown kind ${JSON.stringify(kind)}`);
  });
  const enabled = new Set<RedactionKind>(rules.filter(isRedactionKind));

  const ns = options.namespaces;
  if (ns.mode !== "redact" && ns.mode !== "hash")
    problems.push(`namespaces.mode: must be "redact" or "hash"`);
  if (ns.mode === "hash") {
    if (ns.hashKey === undefined) problems.push("namespaces.hashKey: required when mode is hash");
    else if (!(ns.hashKey instanceof Uint8Array) || ns.hashKey.length < minNamespaceHashKeyBytes) {
      problems.push(`namespaces.hashKey: must be at least ${minNamespaceHashKeyBytes} bytes`);
    }
  }
  ns.allow.forEach((entry, i) => {
    if (typeof entry !== "string" || !allowEntry.test(entry)) {
      problems.push(`namespaces.allow[${i}]: a namespace name, or a prefix ending in *`);
    }
  });

  const extra: CompiledExtraPattern[] = [];
  (options.extraPatterns ?? []).forEach((pattern, i) => {
    const compiled = compileExtraPattern(pattern, i);
    if ("problems" in compiled) problems.push(...compiled.problems);
    else extra.push(compiled.pattern);
  });
  if (problems.length > 0) throw new ConfigError(problems);

  const candidates = extra.length > 0 ? [customPatternsRule(extra), ...builtInRules] : builtInRules;
  const active = candidates.filter((rule) => rule.kinds.some((kind) => enabled.has(kind)));
  return Object.freeze({
    enabled,
    namespaces: createNamespaceLabeler({ mode: ns.mode, hashKey: ns.hashKey, allow: ns.allow }),
    redactMentions: ns.mentions ?? true,
    rules: Object.freeze(active),
    extraPatternNames: Object.freeze(extra.map((p) => p.name)),
  });
}

/** Redaction on by default: every kind, namespaces replaced by `[REDACTED_NAMESPACE]`, nothing allowlisted. */
export const defaultRedactionPolicyOptions: RedactionPolicyOptions = Object.freeze({
  namespaces: Object.freeze({ mode: "redact", allow: Object.freeze([]) }),
});
