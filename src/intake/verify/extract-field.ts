/**
 * Reading a provider's event id or event type from a verified request (`FieldRef`: a header, or a
 * JSON path into the parsed body).
 */
import { headerKey, type RequestHeaders } from "./headers.ts";
import { type JsonPath, parseJsonPath, readJsonPath } from "./json-path.ts";
import type { FieldRef } from "./spec.ts";

/** Parsed paths by source text; config holds a handful, so this stays small. */
const parsedPaths = new Map<string, JsonPath>();

function cachedPath(path: string): JsonPath {
  let parsed = parsedPaths.get(path);
  if (parsed === undefined) {
    parsed = parseJsonPath(path);
    parsedPaths.set(path, parsed);
  }
  return parsed;
}

/**
 * The field's value as a non-empty string: the header when `ref.header` is set and present, else the
 * JSON path's value when it is a string, a finite number or a boolean. Anything else (absent, empty,
 * object, array, null, or a repeated header, which is ambiguous) is `undefined`.
 *
 * @param parsedBody the already-parsed body (JSON, or a form decoded into an object).
 * @throws ConfigError when `ref.jsonPath` is not a valid path (a config mistake, caught at startup
 *   when config validation calls `parseJsonPath`).
 */
export function extractField(
  ref: FieldRef,
  headers: RequestHeaders,
  parsedBody: unknown,
): string | undefined {
  if (ref.header !== undefined) {
    const value = headers[headerKey(ref.header)];
    if (typeof value === "string" && value !== "") return value;
  }
  if (ref.jsonPath !== undefined) return scalarText(readJsonPath(parsedBody, cachedPath(ref.jsonPath)));
  return undefined;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === "boolean") return String(value);
  return undefined;
}
