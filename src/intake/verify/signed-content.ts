/**
 * The signed-content template (`{body}`, `v0:{timestamp}:{body}`, `{id}.{timestamp}.{body}`, …),
 * parsed once into parts. Threat: hashing anything but the exact bytes received (a re-serialized
 * body, a re-formatted timestamp). Parts are fed to the HMAC as-is: literals and the raw body as
 * bytes, header values as the exact strings received.
 */
import type { Hmac } from "node:crypto";

export type Placeholder = "body" | "timestamp" | "id" | "url";

export type ContentPart =
  | { readonly kind: "literal"; readonly bytes: Buffer }
  | { readonly kind: "placeholder"; readonly name: Placeholder };

/** The per-request values of the placeholders a template uses. */
export interface ContentValues {
  readonly body: Buffer;
  readonly timestamp?: string;
  readonly id?: string;
  readonly url?: string;
}

/** A parsed template: its parts, and which placeholders it uses. */
export interface SignedContent {
  readonly parts: readonly ContentPart[];
  readonly uses: ReadonlySet<Placeholder>;
}

const placeholderPattern = /\{([A-Za-z_]+)\}/g;
const placeholders: ReadonlySet<string> = new Set<Placeholder>(["body", "timestamp", "id", "url"]);

/**
 * Parses `template`.
 *
 * @returns the parts, or the problem (unknown placeholder, no `{body}`) for the caller to report.
 */
export function parseSignedContent(template: string): SignedContent | { readonly problem: string } {
  const parts: ContentPart[] = [];
  const uses = new Set<Placeholder>();
  let literalStart = 0;
  for (const match of template.matchAll(placeholderPattern)) {
    const name = match[1] ?? "";
    if (!placeholders.has(name)) {
      return { problem: `unknown placeholder {${name}}; use {body}, {timestamp}, {id} or {url}` };
    }
    pushLiteral(parts, template.slice(literalStart, match.index));
    parts.push({ kind: "placeholder", name: name as Placeholder });
    uses.add(name as Placeholder);
    literalStart = match.index + match[0].length;
  }
  pushLiteral(parts, template.slice(literalStart));
  if (!uses.has("body")) {
    return { problem: "must include {body}, or the body is not protected by the signature" };
  }
  return { parts, uses };
}

function pushLiteral(parts: ContentPart[], text: string): void {
  if (text !== "") parts.push({ kind: "literal", bytes: Buffer.from(text, "utf8") });
}

/** Feeds the signed content into `hmac`, part by part: the same bytes as their concatenation. */
export function updateWithContent(hmac: Hmac, parts: readonly ContentPart[], values: ContentValues): Hmac {
  for (const part of parts) {
    if (part.kind === "literal") hmac.update(part.bytes);
    else if (part.name === "body") hmac.update(values.body);
    else hmac.update(values[part.name] ?? "", "utf8");
  }
  return hmac;
}
