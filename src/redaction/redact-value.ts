/**
 * Redaction layer 1: structured data, before it reaches a template.
 *
 * Threat: events carry credentials, personal data and internal topology (tokens in Falco command
 * lines, Secrets in audit events, emails, IPs, namespace names) that must not reach Slack channels,
 * tickets or third-party webhooks. This layer is the one that understands structure: Kubernetes
 * Secret objects, secret-named keys, env-var/header `{name, value}` entries, namespace fields. It is
 * not the authoritative check: templates can concatenate or re-encode data, so `redactText` runs
 * again on the final serialized request body just before it is sent (DESIGN.md §6). Both must pass.
 *
 * Guarantees: the input is never mutated (the output is a fresh copy); keys are redacted too, and
 * keys that collide after redaction get `#2`, `#3`… instead of overwriting each other; cycles, depth
 * beyond `maxDepth` and more than `maxNodes` nodes, getters that throw and non-JSON values (functions,
 * symbols, class instances other than `Date`) make it throw `RedactionError`: never a partial result.
 */
import { cleanKeysOf, rememberCleanKey } from "./clean-keys.ts";
import type { RedactionCounts } from "./kinds.ts";
import { countsOf, isPlaceholder, placeholders } from "./kinds.ts";
import type { RedactionFinding } from "./matches.ts";
import { isHashedNamespace, isNamespaceKey } from "./namespace-labeler.ts";
import type { CompiledRedactionPolicy } from "./policy.ts";
import { RedactionError } from "./redaction-error.ts";
import {
  createScanRun,
  mayMention,
  recordWhole,
  type ScanRun,
  scanFlags,
  scanString,
} from "./scan-string.ts";
import { classifySecretKey, placeholderForSecretKey, type SecretKeyKind } from "./secret-keys.ts";

export interface RedactionLimits {
  /** Deepest nesting of objects/arrays accepted. Real events nest < 20 levels. */
  readonly maxDepth: number;
  /** Most objects/arrays visited in one value (a guard against shared-reference blow-up). */
  readonly maxNodes: number;
}

export const defaultRedactionLimits: RedactionLimits = Object.freeze({ maxDepth: 64, maxNodes: 1_000_000 });

/** Per-call inputs besides the value and the tenant's policy. */
export interface RedactionContext {
  /**
   * Namespaces known to belong to this event (e.g. `event.resource.namespace`): their bare mentions are
   * redacted too, even where no `namespace=` context says so. Useful for `redactText`, which sees
   * only the body.
   */
  readonly knownNamespaces?: readonly string[];
  /** When given, every redaction is appended here (kind and location, never the redacted text): the dry run. */
  readonly findings?: RedactionFinding[];
  readonly limits?: Partial<RedactionLimits>;
}

export interface RedactedValue {
  readonly value: unknown;
  /** Redactions per kind, for `zen_redactions_total{tenant,kind}`. */
  readonly counts: RedactionCounts;
}

const secretTypes = /^(?:Opaque|kubernetes\.io\/.+|bootstrap\.kubernetes\.io\/token|helm\.sh\/release\.v1)$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A Secret that lost its `kind` (items of a `SecretList`) still has a Secret `type` next to its data. */
function isTypedSecret(obj: Record<string, unknown>): boolean {
  const type = obj.type;
  return (
    typeof type === "string" && secretTypes.test(type) && (isRecord(obj.data) || isRecord(obj.stringData))
  );
}

/** What a key says about its value; cached, since events reuse the same few hundred keys. */
interface KeyTraits {
  readonly secretKind: SecretKeyKind | undefined;
  readonly namespace: boolean;
}

const keyTraitsCache = new Map<string, KeyTraits>();
/** Cache bounds: keys longer than this are classified each time; the cache is cleared when full. */
const keyTraitsCacheLimits = { maxKeyLength: 100, maxEntries: 20_000 } as const;

function traitsOf(key: string): KeyTraits {
  const cached = keyTraitsCache.get(key);
  if (cached !== undefined) return cached;
  const traits: KeyTraits = { secretKind: classifySecretKey(key), namespace: isNamespaceKey(key) };
  if (key.length <= keyTraitsCacheLimits.maxKeyLength) {
    if (keyTraitsCache.size >= keyTraitsCacheLimits.maxEntries) keyTraitsCache.clear();
    keyTraitsCache.set(key, traits);
  }
  return traits;
}

function pointer(path: string | undefined, key: string | number): string | undefined {
  if (path === undefined) return undefined;
  return `${path}/${typeof key === "number" ? key : key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

function setProperty(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

/** `key`, or `key#2`, `key#3`… when redaction made it equal to a key already in `out`. */
function uniqueKey(out: Record<string, unknown>, key: string): string {
  if (!Object.hasOwn(out, key)) return key;
  let n = 2;
  while (Object.hasOwn(out, `${key}#${n}`)) n++;
  return `${key}#${n}`;
}

/** Where the walker is: anywhere, or inside a Kubernetes Secret (`data`/`stringData` maps at any depth lose their values). */
type Scope = "plain" | "secret";

class Walker {
  private nodes = 0;
  private readonly ancestors = new Set<object>();
  private readonly secretsOn: boolean;
  private readonly namespacesOn: boolean;
  /** Keys this policy's rules found nothing in (clean-keys.ts says why skipping them is safe). */
  private readonly cleanKeys: Set<string>;

  constructor(
    private readonly run: ScanRun,
    private readonly limits: RedactionLimits,
  ) {
    this.secretsOn = run.enabled.has("kubernetes_secret");
    this.namespacesOn = run.enabled.has("namespace");
    this.cleanKeys = cleanKeysOf(run.policy);
  }

  private string(value: string, path: string | undefined): string {
    return scanString(value, this.run, scanFlags.structured | scanFlags.mentions, path, "value");
  }

  /** The redacted key; its findings carry the path of the object holding it. */
  private key(key: string, path: string | undefined): string {
    let out = key;
    if (!this.cleanKeys.has(key)) {
      out = scanString(key, this.run, 0, path, "key");
      if (this.run.matches.size === 0) rememberCleanKey(this.cleanKeys, key);
    }
    // Mentions depend on the event, so they are looked for after the (cacheable) rules.
    if (this.run.learned.size > 0 && mayMention(out, this.run)) {
      out = scanString(out, this.run, scanFlags.mentions | scanFlags.mentionsOnly, path, "key");
    }
    return out;
  }

  walk(value: unknown, depth: number, path: string | undefined, scope: Scope): unknown {
    switch (typeof value) {
      case "string":
        return this.string(value, path);
      case "number":
      case "boolean":
      case "undefined":
      case "bigint":
        return value;
      case "object":
        if (value === null) return null;
        return this.object(value, depth, path, scope);
      default:
        throw new RedactionError(`cannot redact a ${typeof value}`);
    }
  }

  private enter(obj: object, depth: number): void {
    if (depth >= this.limits.maxDepth) {
      throw new RedactionError(`value nested deeper than ${this.limits.maxDepth} levels`);
    }
    if (++this.nodes > this.limits.maxNodes) {
      throw new RedactionError(`value has more than ${this.limits.maxNodes} objects and arrays`);
    }
    if (this.ancestors.has(obj)) throw new RedactionError("value is cyclic");
    this.ancestors.add(obj);
  }

  private object(obj: object, depth: number, path: string | undefined, scope: Scope): unknown {
    if (obj instanceof Date) return this.string(obj.toISOString(), path);
    this.enter(obj, depth);
    try {
      if (Array.isArray(obj)) {
        const out = new Array<unknown>(obj.length);
        for (let i = 0; i < obj.length; i++) out[i] = this.walk(obj[i], depth + 1, pointer(path, i), scope);
        return out;
      }
      const proto = Object.getPrototypeOf(obj);
      if (proto !== Object.prototype && proto !== null) {
        throw new RedactionError(`cannot redact a ${proto?.constructor?.name ?? "non-plain object"}`);
      }
      return this.record(obj as Record<string, unknown>, depth, path, scope);
    } finally {
      this.ancestors.delete(obj);
    }
  }

  private record(
    obj: Record<string, unknown>,
    depth: number,
    path: string | undefined,
    scope: Scope,
  ): unknown {
    const kind = obj.kind;
    const inSecret =
      this.secretsOn &&
      (scope === "secret" || kind === "Secret" || kind === "SecretList" || isTypedSecret(obj));
    const childScope: Scope = inSecret ? "secret" : "plain";
    const isNamespaceObject = this.namespacesOn && kind === "Namespace";
    // `{name: DB_PASSWORD, value: …}` (container env), `{name: Authorization, value: …}` (headers).
    const entryName =
      typeof obj.name === "string" ? obj.name : typeof obj.key === "string" ? obj.key : undefined;
    const entryKind =
      entryName === undefined ? undefined : this.enabledSecretKind(traitsOf(entryName).secretKind);
    const out: Record<string, unknown> = {};
    // Until a key is renamed, `out` holds only original keys, which are distinct: no collision check.
    let renamed = false;
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      const redactedKey = this.key(key, path);
      if (redactedKey !== key) renamed = true;
      const outKey = renamed ? uniqueKey(out, redactedKey) : redactedKey;
      const at = pointer(path, outKey);
      const traits = traitsOf(key);
      let result: unknown;
      if (
        inSecret &&
        (key === "data" || key === "stringData" || key === "binaryData") &&
        isRecordOrArray(value)
      ) {
        result = this.secretData(value, depth + 1, at);
      } else if (
        this.namespacesOn &&
        traits.namespace &&
        (typeof value === "string" || Array.isArray(value))
      ) {
        result = this.namespaceValue(value, depth + 1, at, childScope);
      } else if (isNamespaceObject && key === "metadata" && isRecord(value)) {
        result = this.namespaceMetadata(value, depth + 1, at);
      } else {
        const secretKind =
          this.enabledSecretKind(traits.secretKind) ?? (key === "value" ? entryKind : undefined);
        result =
          secretKind === undefined
            ? this.walk(value, depth + 1, at, childScope)
            : this.secretValue(value, secretKind, depth + 1, at);
      }
      setProperty(out, outKey, result);
    }
    return out;
  }

  private enabledSecretKind(kind: SecretKeyKind | undefined): SecretKeyKind | undefined {
    return kind !== undefined && this.run.enabled.has(kind) ? kind : undefined;
  }

  /** A value held under a secret name: strings and numbers become the placeholder, at any depth. */
  private secretValue(value: unknown, kind: SecretKeyKind, depth: number, path: string | undefined): unknown {
    switch (typeof value) {
      case "string":
        if (value === "" || isPlaceholder(value)) return value;
        recordWhole(this.run, kind, value.length, path);
        return placeholderForSecretKey(kind);
      case "number":
      case "bigint":
        recordWhole(this.run, kind, String(value).length, path);
        return placeholderForSecretKey(kind);
      case "object":
        if (value === null) return null;
        return this.eachLeaf(value, depth, path, (leaf, at) => this.secretValue(leaf, kind, depth + 1, at));
      default:
        return this.walk(value, depth, path, "plain");
    }
  }

  /** A Secret's `data`/`stringData`: keys stay, every value becomes `[REDACTED_SECRET]`. */
  private secretData(value: object, depth: number, path: string | undefined): unknown {
    return this.eachLeaf(value, depth, path, (leaf, at) => {
      if (leaf === null || leaf === undefined) return leaf;
      recordWhole(this.run, "kubernetes_secret", typeof leaf === "string" ? leaf.length : 0, at);
      return placeholders.secret;
    });
  }

  /** Applies `leaf` to each entry of an object or array (one level); keys still go through the string rules. */
  private eachLeaf(
    value: object,
    depth: number,
    path: string | undefined,
    leaf: (entry: unknown, path: string | undefined, key: string | number) => unknown,
  ): unknown {
    if (value instanceof Date) return leaf(value.toISOString(), path, "");
    this.enter(value, depth);
    try {
      if (Array.isArray(value)) return value.map((entry, i) => leaf(entry, pointer(path, i), i));
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null)
        throw new RedactionError("cannot redact a non-plain object");
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(obj)) {
        const outKey = uniqueKey(out, this.key(key, path));
        setProperty(out, outKey, leaf(obj[key], pointer(path, outKey), key));
      }
      return out;
    } finally {
      this.ancestors.delete(value);
    }
  }

  private namespaceName(value: string, path: string | undefined): string {
    if (value === "" || value === "<NA>" || isPlaceholder(value) || isHashedNamespace(value)) return value;
    const replacement = this.run.namespaces.replacementFor(value);
    if (replacement === undefined) return value;
    this.run.learnNamespace(value, replacement);
    recordWhole(this.run, "namespace", value.length, path);
    return replacement;
  }

  private namespaceValue(
    value: string | unknown[],
    depth: number,
    path: string | undefined,
    scope: Scope,
  ): unknown {
    if (typeof value === "string") return this.namespaceName(value, path);
    return this.eachLeaf(value, depth, path, (entry, at) =>
      typeof entry === "string" ? this.namespaceName(entry, at) : this.walk(entry, depth + 1, at, scope),
    );
  }

  /** `metadata` of a `kind: Namespace` object: its `name` is a namespace. */
  private namespaceMetadata(
    value: Record<string, unknown>,
    depth: number,
    path: string | undefined,
  ): unknown {
    return this.eachLeaf(value, depth, path, (entry, at, key) =>
      typeof entry === "string" && key === "name"
        ? this.namespaceName(entry, at)
        : this.walk(entry, depth + 1, at, "plain"),
    );
  }

  /**
   * Second pass over the (fresh) output: mentions of namespaces learned anywhere in the value. The
   * first pass already redacts mentions of the names known by the time it reaches a string, so this
   * pass is needed only when the walk learned a new name (it may be mentioned before it was found).
   */
  mentions(value: unknown, path: string | undefined): unknown {
    if (typeof value === "string") {
      if (!mayMention(value, this.run)) return value;
      return scanString(value, this.run, scanFlags.mentions | scanFlags.mentionsOnly, path, "value");
    }
    if (typeof value !== "object" || value === null) return value;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.mentions(value[i], pointer(path, i));
      return value;
    }
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    let renamed = false;
    const newKeys = keys.map((key) => {
      const k = mayMention(key, this.run)
        ? scanString(key, this.run, scanFlags.mentions | scanFlags.mentionsOnly, path, "key")
        : key;
      if (k !== key) renamed = true;
      return k;
    });
    if (!renamed) {
      for (const key of keys) obj[key] = this.mentions(obj[key], pointer(path, key));
      return obj;
    }
    const out: Record<string, unknown> = {};
    keys.forEach((key, i) => {
      const outKey = uniqueKey(out, newKeys[i] as string);
      setProperty(out, outKey, this.mentions(obj[key], pointer(path, outKey)));
    });
    return out;
  }
}

function isRecordOrArray(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function failure(err: unknown): RedactionError {
  if (err instanceof RedactionError) return err;
  const name = err instanceof Error ? err.name : typeof err;
  return new RedactionError(`redaction failed (${name})`);
}

/**
 * Redacts a JSON-like value (objects, arrays, strings, numbers, booleans, null; `Date` as its ISO
 * string) under `policy`. Never mutates `value`.
 * @throws RedactionError (code `redaction_failed`) on cycles, too deep or too large values, throwing
 *   getters, non-JSON values, or any internal failure: never a partially redacted result.
 */
export function redactValue(
  value: unknown,
  policy: CompiledRedactionPolicy,
  ctx: RedactionContext = {},
): RedactedValue {
  try {
    const run = createScanRun(policy, ctx.knownNamespaces, ctx.findings);
    const limits = { ...defaultRedactionLimits, ...ctx.limits };
    const walker = new Walker(run, limits);
    const root = ctx.findings === undefined ? undefined : "";
    const knownBefore = run.learned.size;
    let out = walker.walk(value, 0, root, "plain");
    if (run.learned.size > knownBefore) out = walker.mentions(out, root);
    return { value: out, counts: countsOf(run.tally) };
  } catch (err) {
    throw failure(err);
  }
}

/** Shared with `redactText`: wraps anything thrown inside the engine into a `RedactionError`. */
export const redactionFailure = failure;
