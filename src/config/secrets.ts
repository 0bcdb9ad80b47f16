/**
 * Secret references. The YAML file names where a secret lives, `env:NAME` or `file:/path`, and never
 * holds the secret itself: config files get committed, pasted into tickets and printed by
 * `zen config check`. Anything else where a secret is expected is refused without being echoed (it may
 * be the secret). Resolved values go into the frozen Config only; no message ever contains one.
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import type { Env } from "./env-schema.ts";
import { type ReadFile, readErrorReason } from "./read-file.ts";
import type { Parsed } from "./values.ts";

export type SecretRef =
  | { readonly kind: "env"; readonly name: string }
  /** `path` as written; relative paths resolve against the config file's directory. */
  | { readonly kind: "file"; readonly path: string };

/** What resolving a reference needs: the env, a file reader, and the directory relative paths start from. */
export interface SecretSources {
  readonly env: Env;
  readonly readFile: ReadFile;
  readonly baseDir: string;
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when `raw` is written as a reference (`env:` or `file:` prefix), well-formed or not. */
export function looksLikeSecretRef(raw: string): boolean {
  return raw.startsWith("env:") || raw.startsWith("file:");
}

/** Parses `env:NAME` or `file:/path`; any other string is refused as a literal secret. */
export function parseSecretRef(raw: string): Parsed<SecretRef> {
  if (raw.startsWith("env:")) {
    const name = raw.slice("env:".length);
    return envName.test(name)
      ? { ok: true, value: { kind: "env", name } }
      : { ok: false, message: "expected env:NAME with NAME a variable name (letters, digits, _)" };
  }
  if (raw.startsWith("file:")) {
    const path = raw.slice("file:".length);
    return path.trim() !== ""
      ? { ok: true, value: { kind: "file", path } }
      : { ok: false, message: "expected file:/path/to/secret" };
  }
  return {
    ok: false,
    message:
      "literal secrets are not allowed in the config file (value not shown); write env:NAME or file:/path and keep the secret there",
  };
}

/** A YAML string that must be a secret reference. */
export const secretRefSchema = z.string().transform((raw, ctx): SecretRef => {
  const ref = parseSecretRef(raw);
  if (ref.ok) return ref.value;
  ctx.addIssue({ code: "custom", message: ref.message });
  return z.NEVER;
});

/**
 * The secret's value. `env:` must be set and non-empty; `file:` is read whole, with trailing newlines
 * removed (editors and `echo` add one; no secret format ends in one).
 */
export function resolveSecret(ref: SecretRef, sources: SecretSources): Parsed<string> {
  if (ref.kind === "env") {
    const value = sources.env[ref.name];
    if (value === undefined) return { ok: false, message: `environment variable ${ref.name} is not set` };
    if (value.trim() === "") return { ok: false, message: `environment variable ${ref.name} is empty` };
    return { ok: true, value };
  }
  const path = isAbsolute(ref.path) ? ref.path : resolve(sources.baseDir, ref.path);
  let content: string;
  try {
    content = sources.readFile(path);
  } catch (err) {
    return { ok: false, message: `cannot read secret file ${path}: ${readErrorReason(err)}` };
  }
  const value = content.replace(/(\r?\n)+$/, "");
  if (value.trim() === "") return { ok: false, message: `secret file ${path} is empty` };
  return { ok: true, value };
}
