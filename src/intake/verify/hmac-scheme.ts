/**
 * The HMAC verifier (GitHub, Stripe, Slack, Standard Webhooks, Shopify, PagerDuty, Linear, Zoom,
 * Jira, generic). Threat: forged or replayed webhooks. The authoritative check is `verify` below:
 * HMAC of the exact raw bytes under every configured secret, constant-time compared with every
 * signature in the header (`matchesAny`), then the two-sided timestamp window. A timestamp read from
 * the body (Linear) is only looked at after the signature has proved the body genuine.
 */
import { createHmac, type KeyObject } from "node:crypto";
import { ConfigError, HttpError } from "../../domain/errors.ts";
import { decodeDigest, describeDigest, digestLength, encodeDigest, matchesAny } from "./digest.ts";
import { headerKey, type RequestHeaders, singleHeader } from "./headers.ts";
import { type JsonPath, parseJsonPath, readJsonPath } from "./json-path.ts";
import { secretKey } from "./secret-key.ts";
import { keyedValue, prefixedValues, splitEntries } from "./signature-header.ts";
import {
  type ContentPart,
  type ContentValues,
  parseSignedContent,
  updateWithContent,
} from "./signed-content.ts";
import type { HmacScheme, TimestampSpec } from "./spec.ts";
import { checkTimestamp, parseTimestampText, parseTimestampValue } from "./timestamp.ts";
import type { Verified, Verifier, VerifyInput } from "./verifier.ts";

/** Where the compiled scheme finds its timestamp, and the window it is held to. */
type CompiledTimestamp = { readonly spec: TimestampSpec } & (
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "signature-key"; readonly key: string }
  | { readonly kind: "body"; readonly path: JsonPath; readonly text: string }
);

/** Everything `verify` needs, computed once. */
interface CompiledHmac {
  readonly algorithm: HmacScheme["algorithm"];
  readonly encoding: HmacScheme["encoding"];
  readonly keys: readonly KeyObject[];
  readonly signatureHeaders: readonly string[];
  readonly prefix: string;
  readonly separator: string | undefined;
  readonly digestLength: number;
  readonly parts: readonly ContentPart[];
  readonly timestamp: CompiledTimestamp | undefined;
  /** Lower-case id header, set only when the template uses `{id}`. */
  readonly idHeader: string | undefined;
  /** For the mismatch message: what was signed, without any value. */
  readonly recipe: string;
}

/**
 * Compiles an HMAC scheme with its secrets (several = rotation: any may match).
 *
 * @param configPath prefix of the field names in `ConfigError` lines, e.g. `tenants.acme.sources.gh.verify`.
 * @throws ConfigError listing every problem: bad template, timestamp not covered by the signature,
 *   `{id}` without `idHeader`, missing or undecodable secrets, bad JSON path.
 */
export function compileHmacScheme(
  scheme: HmacScheme,
  secrets: readonly string[],
  configPath: string,
): Verifier {
  const problems: string[] = [];
  const content = parseSignedContent(scheme.signedContent);
  if ("problem" in content) problems.push(`${configPath}.signedContent: ${content.problem}`);
  const uses = "problem" in content ? new Set<string>() : content.uses;

  const timestamp = compileTimestamp(scheme, uses, configPath, problems);
  if (uses.has("timestamp") && scheme.timestamp === undefined) {
    problems.push(`${configPath}.signedContent: uses {timestamp} but no timestamp is configured`);
  }
  if (uses.has("id") && scheme.idHeader === undefined) {
    problems.push(`${configPath}.signedContent: uses {id} but idHeader is not set`);
  }
  const keys = compileKeys(secrets, scheme.keyEncoding, configPath, problems);
  if (problems.length > 0 || "problem" in content) throw new ConfigError(problems);

  const compiled: CompiledHmac = {
    algorithm: scheme.algorithm,
    encoding: scheme.encoding,
    keys,
    signatureHeaders: [scheme.signatureHeader, ...(scheme.signatureHeaderAliases ?? [])].map(headerKey),
    prefix: scheme.signaturePrefix ?? "",
    separator: scheme.signatureSeparator,
    digestLength: digestLength(scheme.algorithm),
    parts: content.parts,
    timestamp,
    idHeader: uses.has("id") && scheme.idHeader !== undefined ? headerKey(scheme.idHeader) : undefined,
    recipe: `HMAC-${scheme.algorithm.toUpperCase()} of "${scheme.signedContent}", ${scheme.encoding}`,
  };
  return { verify: (input) => verifyHmac(compiled, input) };
}

function compileTimestamp(
  scheme: HmacScheme,
  uses: ReadonlySet<string>,
  configPath: string,
  problems: string[],
): CompiledTimestamp | undefined {
  const spec = scheme.timestamp;
  if (spec === undefined) return undefined;
  const where = `${configPath}.timestamp`;
  const sources = [spec.header, spec.signatureKey, spec.jsonPath].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    problems.push(`${where}: set exactly one of header, signatureKey, jsonPath`);
    return undefined;
  }
  if (!(Number.isFinite(spec.toleranceSeconds) && spec.toleranceSeconds > 0)) {
    problems.push(`${where}.toleranceSeconds: must be a positive number of seconds`);
  }
  if (spec.jsonPath !== undefined) {
    if (uses.has("timestamp")) {
      problems.push(
        `${configPath}.signedContent: {timestamp} cannot come from the body it signs; use a header`,
      );
    }
    try {
      return { spec, kind: "body", path: parseJsonPath(spec.jsonPath), text: spec.jsonPath };
    } catch (error) {
      problems.push(...prefixed(`${where}.jsonPath`, error));
      return undefined;
    }
  }
  if (!uses.has("timestamp")) {
    problems.push(
      `${configPath}.signedContent: must include {timestamp}, or the timestamp is not covered by the signature`,
    );
  }
  if (spec.header !== undefined) return { spec, kind: "header", name: headerKey(spec.header) };
  if (scheme.signatureSeparator === undefined) {
    problems.push(`${where}.signatureKey: needs signatureSeparator to split the signature header`);
  }
  return { spec, kind: "signature-key", key: spec.signatureKey ?? "" };
}

function compileKeys(
  secrets: readonly string[],
  encoding: HmacScheme["keyEncoding"],
  configPath: string,
  problems: string[],
): KeyObject[] {
  if (secrets.length === 0) problems.push(`${configPath}: at least one secret is required`);
  const keys: KeyObject[] = [];
  for (const [index, secret] of secrets.entries()) {
    try {
      keys.push(secretKey(secret, encoding, `secrets[${index}]`));
    } catch (error) {
      problems.push(...prefixed("", error));
    }
  }
  return keys;
}

function prefixed(field: string, error: unknown): string[] {
  if (!(error instanceof ConfigError)) throw error;
  return error.problems.map((problem) => (field === "" ? problem : `${field}: ${problem}`));
}

function verifyHmac(c: CompiledHmac, input: VerifyInput): Verified {
  const { name, value } = signatureHeader(c.signatureHeaders, input.headers);
  const entries = splitEntries(value, c.separator);
  const texts = prefixedValues(entries, c.prefix);
  if (texts.length === 0) {
    throw new HttpError(
      "malformed_header",
      `signature header ${name} has no entry starting with "${c.prefix}"`,
    );
  }
  const signed = c.timestamp?.kind === "body" ? undefined : signedTimestamp(c, input, entries, name);
  const id = c.idHeader === undefined ? undefined : signedId(c.idHeader, input);
  const candidates = decodeCandidates(c, texts, name);

  const values: ContentValues = { body: input.rawBody, timestamp: signed?.text, id, url: input.url };
  const nonce = matchSignature(c, values, candidates);
  if (nonce === undefined) {
    throw new HttpError(
      "signature_invalid",
      `no signature in ${name} matches this request (${c.recipe}); check the secret and that the exact raw body is sent`,
    );
  }
  // Only now is the body known to be genuine, so only now may a timestamp be read from it.
  const timestampMs = signed?.ms ?? bodyTimestampMs(c, input);
  return timestampMs === undefined ? { signature: nonce } : { signature: nonce, timestampMs };
}

/** The header or `t=`-entry timestamp: its exact text (it is signed) and its value, window-checked. */
function signedTimestamp(
  c: CompiledHmac,
  input: VerifyInput,
  entries: readonly string[],
  signatureHeaderName: string,
): { text: string; ms: number } | undefined {
  const source = c.timestamp;
  if (source === undefined || source.kind === "body") return undefined;
  const spec = source.spec;
  let text: string | undefined;
  let where: string;
  if (source.kind === "header") {
    text = singleHeader(input.headers, source.name);
    where = `header ${source.name}`;
  } else {
    text = keyed(entries, source.key, signatureHeaderName);
    where = `"${source.key}=" in header ${signatureHeaderName}`;
  }
  if (text === undefined) throw new HttpError("timestamp_missing", `timestamp ${where} is missing`);
  const parsed = parseTimestampText(text);
  if (parsed === undefined) {
    throw new HttpError("malformed_header", `timestamp ${where} is not an integer in ${unitName(spec.unit)}`);
  }
  return {
    text,
    ms: checkTimestamp(parsed, spec.unit, spec.toleranceSeconds, input.nowMs, `timestamp ${where}`),
  };
}

function signedId(idHeader: string, input: VerifyInput): string {
  const id = singleHeader(input.headers, idHeader);
  if (id === undefined) throw new HttpError("missing_header", `header ${idHeader} is missing; it is signed`);
  return id;
}

function decodeCandidates(c: CompiledHmac, texts: readonly string[], headerName: string): Buffer[] {
  const candidates: Buffer[] = [];
  for (const text of texts) {
    const digest = decodeDigest(text, c.encoding, c.digestLength);
    if (digest !== undefined) candidates.push(digest);
  }
  if (candidates.length === 0) {
    const expected = describeDigest(c.encoding, c.digestLength);
    throw new HttpError(
      "signature_invalid",
      `signature in ${headerName} is not a ${c.algorithm} digest (${expected})`,
    );
  }
  return candidates;
}

/** Linear-style timestamp from the (already verified) JSON body, window-checked; `undefined` if the scheme has none. */
function bodyTimestampMs(c: CompiledHmac, input: VerifyInput): number | undefined {
  const source = c.timestamp;
  if (source?.kind !== "body") return undefined;
  const timestamp = bodyTimestamp(input.rawBody, source.path, source.text);
  const { unit, toleranceSeconds } = source.spec;
  return checkTimestamp(timestamp, unit, toleranceSeconds, input.nowMs, `body field ${source.text}`);
}

/**
 * Tries every key; on a match returns the replay nonce: the digest under the *first* key, in
 * canonical encoding. It does not depend on which rotated key matched, on which of several
 * signatures was sent, or on how the sender spelled it (hex case, base64 padding), so none of
 * those can be varied to slip a replay past the nonce cache.
 */
function matchSignature(
  c: CompiledHmac,
  values: ContentValues,
  candidates: readonly Buffer[],
): string | undefined {
  let first: Buffer | undefined;
  for (const key of c.keys) {
    const digest = updateWithContent(createHmac(c.algorithm, key), c.parts, values).digest();
    first ??= digest;
    if (matchesAny(digest, candidates)) return encodeDigest(first, c.encoding);
  }
  return undefined;
}

function signatureHeader(names: readonly string[], headers: RequestHeaders): { name: string; value: string } {
  for (const name of names) {
    const value = singleHeader(headers, name);
    if (value !== undefined) return { name, value };
  }
  throw new HttpError("signature_missing", `signature header ${names.join(" or ")} is missing or empty`);
}

function keyed(entries: readonly string[], key: string, header: string): string | undefined {
  const found = keyedValue(entries, key);
  if (found.kind === "repeated") {
    throw new HttpError("malformed_header", `"${key}=" appears twice in header ${header}`);
  }
  return found.kind === "found" && found.value !== "" ? found.value : undefined;
}

function bodyTimestamp(rawBody: Buffer, path: JsonPath, text: string): number {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString("utf8"));
  } catch {
    throw new HttpError("malformed_body", `body is not JSON; the timestamp is read from ${text}`);
  }
  const value = readJsonPath(body, path);
  if (value === undefined || value === null) {
    throw new HttpError("timestamp_missing", `body field ${text} is missing`);
  }
  const timestamp = parseTimestampValue(value);
  if (timestamp === undefined) {
    throw new HttpError("malformed_body", `body field ${text} is not an integer timestamp`);
  }
  return timestamp;
}

function unitName(unit: TimestampSpec["unit"]): string {
  return unit === "s" ? "seconds" : "milliseconds";
}
