/**
 * Body parsing, after verification. Verification ran on the raw bytes; here we only turn trusted
 * bytes into data, refusing what would hurt later stages: invalid UTF-8, broken JSON, nesting deep
 * enough to blow a stack when serialized again (JSON bombs), and media types the source does not send.
 */
import { HttpError } from "../domain/errors.ts";

/** Deeper than any real provider payload; deep enough that re-serializing can never overflow. */
export const maxJsonDepth = 64;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** `application/json; charset=utf-8` → `application/json`; undefined when absent or empty. */
export function mediaType(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const semi = contentType.indexOf(";");
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === "" ? undefined : type;
}

export function decodeUtf8(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new HttpError("malformed_body", "body is not valid UTF-8");
  }
}

/** Depth of nested arrays/objects in JSON text, without parsing it (strings are skipped). */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

export function parseJson(raw: Uint8Array): unknown {
  const text = decodeUtf8(raw);
  if (text.trim() === "") throw new HttpError("malformed_body", "body is empty; expected JSON");
  if (jsonDepthExceeds(text, maxJsonDepth)) {
    throw new HttpError("malformed_body", `JSON nests deeper than ${maxJsonDepth} levels`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError("malformed_body", `body is not valid JSON: ${(err as Error).message.slice(0, 120)}`);
  }
}

/** Form fields as an object; a repeated key becomes an array of its values. */
export function parseForm(raw: Uint8Array): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(decodeUtf8(raw))) {
    const existing = fields[key];
    if (existing === undefined) fields[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else fields[key] = [existing, value];
  }
  return fields;
}

export function parseBody(type: string, raw: Uint8Array): unknown {
  if (type === "application/x-www-form-urlencoded") return parseForm(raw);
  return parseJson(raw);
}
