/**
 * Runs a zod schema over one node of the YAML document and turns its issues into problem lines in our
 * wording (`expected a list, got a string`, `unknown key "prest" (did you mean "preset"?)`). Values are
 * quoted only when they are short scalars offered for an enum; an unknown key's value is never shown,
 * because a typo'd key may well hold a secret.
 */
import type { core, z } from "zod";
import type { FieldPath, Problems } from "./problems.ts";

/**
 * Parses `value` with `schema`; on failure records every issue under `path`. When the only issues are
 * unknown keys, they are recorded and the node is parsed again without them, so a typo'd key does
 * not hide the problems of the rest of the node (loading still fails: the problems are recorded).
 * @returns the parsed node, or undefined when it has other problems.
 */
export function parseNode<S extends z.ZodType>(
  schema: S,
  value: unknown,
  path: FieldPath,
  problems: Problems,
): z.output<S> | undefined {
  // Objects that reported unknown keys → the keys their schema knows, for "did you mean".
  const knownKeys = new WeakMap<object, readonly string[]>();
  const result = schema.safeParse(value, { error: (issue) => describe(issue, knownKeys) });
  if (result.success) return result.data;
  const issues = result.error.issues;
  for (const issue of issues) {
    const where = [...path, ...issue.path.map(segment)];
    if (issue.code === "unrecognized_keys") {
      const holder = valueAt(value, issue.path);
      const known = holder !== null && typeof holder === "object" ? knownKeys.get(holder) : undefined;
      for (const key of issue.keys) problems.at([...where, key], unknownKey(key, known));
    } else {
      problems.at(where, issue.message);
    }
  }
  if (!issues.every((issue) => issue.code === "unrecognized_keys")) return undefined;
  const stripped = structuredClone(value);
  for (const issue of issues) {
    const holder = valueAt(stripped, issue.path) as Record<string, unknown>;
    for (const key of issue.code === "unrecognized_keys" ? issue.keys : []) delete holder[key];
  }
  return parseNode(schema, stripped, path, problems);
}

/** The message for `key`, with the closest known key when one is a likely typo. */
export function unknownKey(key: string, known: readonly string[] | undefined): string {
  const guess = known ? closest(key, known) : undefined;
  if (guess !== undefined) return `unknown key (did you mean "${guess}"?)`;
  return known && known.length > 0 ? `unknown key; allowed keys: ${known.join(", ")}` : "unknown key";
}

function segment(key: PropertyKey): string | number {
  return typeof key === "number" ? key : String(key);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describe(
  issue: core.$ZodRawIssue,
  knownKeys: WeakMap<object, readonly string[]>,
): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "required";
      return `expected ${typeName(issue.expected)}, got ${kindOf(issue.input)}`;
    case "invalid_value": {
      const values = issue.values.map((v) => JSON.stringify(v));
      const expected = values.length === 1 ? values[0] : `one of ${values.join(", ")}`;
      return `expected ${expected}, got ${shown(issue.input)}`;
    }
    case "too_small":
      if (issue.origin === "array") return `must list at least ${issue.minimum}`;
      if (issue.origin === "string") return issue.minimum === 1 ? "must not be empty" : undefined;
      return `must be ${issue.inclusive === false ? "greater than" : "at least"} ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "array") return `must list at most ${issue.maximum}`;
      if (issue.origin === "string") return `must be at most ${issue.maximum} characters`;
      return `must be ${issue.inclusive === false ? "less than" : "at most"} ${issue.maximum}`;
    case "unrecognized_keys": {
      const shape = schemaShape(issue.inst);
      if (shape && issue.input !== null && typeof issue.input === "object") knownKeys.set(issue.input, shape);
      return "unknown key";
    }
    case "invalid_union":
      return "invalid value";
    default:
      return undefined;
  }
}

function schemaShape(inst: unknown): readonly string[] | undefined {
  const def = (inst as { _zod?: { def?: { shape?: unknown } } } | undefined)?._zod?.def;
  return def?.shape !== null && typeof def?.shape === "object" ? Object.keys(def.shape) : undefined;
}

function typeName(expected: string): string {
  switch (expected) {
    case "object":
    case "record":
      return "a mapping";
    case "array":
    case "tuple":
      return "a list";
    case "string":
      return "a string";
    case "number":
    case "int":
      return "a number";
    case "boolean":
      return "true or false";
    default:
      return expected;
  }
}

/** The YAML-level kind of a value, never the value itself. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "object":
      return "a mapping";
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    default:
      return typeof value;
  }
}

/** Short scalars offered for an enum are shown; anything else by kind only. */
function shown(value: unknown): string {
  if (typeof value === "string" && value.length <= 40) return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return kindOf(value);
}

/**
 * The known name within edit distance 2 (or a case-only difference) of `key`, if one is best: the
 * "did you mean" of unknown keys and unknown enum values (redaction kinds).
 */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : distance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance; keys are short, so the O(n·m) table is fine. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
