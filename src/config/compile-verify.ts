/**
 * Compiles a source's `verify:` value into a Scheme. Security-relevant: this is where a custom HMAC
 * block is checked for templates that would verify less than the user thinks. The rules:
 *   - `{body}` must be signed, or the payload is not authenticated at all;
 *   - `{timestamp}` needs `timestampHeader`, and a `timestampHeader` must be signed: a window check on
 *     an unsigned timestamp is no replay protection (an attacker just sends a fresh one);
 *   - `{id}` needs `idHeader` (the header whose value is signed);
 *   - placeholders other than `{body}` `{timestamp}` `{id}` `{url}` are refused, not left literal.
 * The authoritative check on requests is in src/intake/verify/; this only builds its input.
 */
import type { FieldRef, HmacScheme, Scheme } from "../intake/verify/spec.ts";
import { type HmacVerifyNode, hmacVerifySchema, tokenVerifySchema } from "./file-schema.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { kindOf, parseNode } from "./zod-issues.ts";

/** The placeholders a custom `signedContent` template may use. */
export const placeholders = ["body", "timestamp", "id", "url"] as const;

/** A compiled `verify:` value plus what it says about event ids and types. */
export interface CompiledVerify {
  readonly scheme: Scheme;
  readonly eventId?: FieldRef;
  readonly eventType?: FieldRef;
  /** The block set its own `toleranceSeconds` (so the source must not set one too). */
  readonly setsTolerance: boolean;
}

/**
 * @param raw the YAML value of `verify:`
 * @param toleranceSeconds the window to use when the block sets none
 */
export function compileVerify(
  raw: unknown,
  path: FieldPath,
  toleranceSeconds: number,
  problems: Problems,
): CompiledVerify | undefined {
  if (raw === "none") return { scheme: { kind: "none" }, setsTolerance: false };
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    problems.at(
      path,
      `expected none, a custom scheme (algorithm, signatureHeader, …) or { token: { header } }, got ${kindOf(raw)}`,
    );
    return undefined;
  }
  if ("token" in raw) {
    const node = parseNode(tokenVerifySchema, raw, path, problems);
    if (!node) return undefined;
    const { header, prefix } = node.token;
    return {
      scheme: { kind: "token", header, ...(prefix !== undefined && { prefix }) },
      setsTolerance: false,
    };
  }
  const node = parseNode(hmacVerifySchema, raw, path, problems);
  return node && compileHmac(node, path, toleranceSeconds, problems);
}

function compileHmac(
  node: HmacVerifyNode,
  path: FieldPath,
  toleranceSeconds: number,
  problems: Problems,
): CompiledVerify | undefined {
  const before = problems.count;
  const used = new Set<string>();
  for (const [, name = ""] of node.signedContent.matchAll(/\{([^{}]*)\}/g)) {
    if ((placeholders as readonly string[]).includes(name)) used.add(name);
    else {
      problems.at(
        [...path, "signedContent"],
        `unknown placeholder {${name}}; use ${placeholders.map((p) => `{${p}}`).join(" ")}`,
      );
    }
  }
  if (!used.has("body")) {
    problems.at(
      [...path, "signedContent"],
      "must include {body}: otherwise the payload is not authenticated",
    );
  }
  if (used.has("timestamp") && node.timestampHeader === undefined) {
    problems.at([...path, "signedContent"], "uses {timestamp} but timestampHeader is not set");
  }
  if (!used.has("timestamp") && node.timestampHeader !== undefined) {
    problems.at(
      [...path, "timestampHeader"],
      "is set but signedContent has no {timestamp}: an unsigned timestamp gives no replay protection",
    );
  }
  for (const key of ["timestampUnit", "toleranceSeconds"] as const) {
    if (node[key] !== undefined && node.timestampHeader === undefined) {
      problems.at([...path, key], "only applies with timestampHeader");
    }
  }
  if (used.has("id") && node.idHeader === undefined) {
    problems.at([...path, "signedContent"], "uses {id} but idHeader is not set");
  }
  if (node.typeHeader !== undefined && node.typeField !== undefined) {
    problems.at([...path, "typeField"], "set typeHeader or typeField, not both");
  }
  if (problems.count > before) return undefined;

  const scheme: HmacScheme = {
    kind: "hmac",
    algorithm: node.algorithm,
    keyEncoding: node.keyEncoding,
    signatureHeader: node.signatureHeader,
    ...(node.signaturePrefix !== undefined && { signaturePrefix: node.signaturePrefix }),
    ...(node.signatureSeparator !== undefined && { signatureSeparator: node.signatureSeparator }),
    encoding: node.encoding,
    signedContent: node.signedContent,
    ...(node.timestampHeader !== undefined && {
      timestamp: {
        header: node.timestampHeader,
        unit: node.timestampUnit ?? "s",
        toleranceSeconds: node.toleranceSeconds ?? toleranceSeconds,
      },
    }),
    ...(node.idHeader !== undefined && { idHeader: node.idHeader }),
  };
  // idField wins for the event id: idHeader may be set only because the id header is signed.
  const eventId: FieldRef | undefined =
    node.idField !== undefined
      ? { jsonPath: node.idField }
      : node.idHeader !== undefined
        ? { header: node.idHeader }
        : undefined;
  const eventType: FieldRef | undefined =
    node.typeField !== undefined
      ? { jsonPath: node.typeField }
      : node.typeHeader !== undefined
        ? { header: node.typeHeader }
        : undefined;
  return {
    scheme,
    ...(eventId && { eventId }),
    ...(eventType && { eventType }),
    setsTolerance: node.toleranceSeconds !== undefined,
  };
}
