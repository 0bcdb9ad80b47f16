/**
 * The sending side of every scheme: the headers that make a request verify against a profile. Used
 * by `zen sign` (curl-able test requests), tests and benchmarks; never on the intake path.
 */
import { createHash, createHmac } from "node:crypto";
import { ConfigError } from "../../domain/errors.ts";
import { headerKey } from "./headers.ts";
import { secretKeyBytes } from "./secret-key.ts";
import { parseSignedContent, updateWithContent } from "./signed-content.ts";
import type { HmacScheme, SourceProfile } from "./spec.ts";
import { twilioSignature, twilioSignatureHeader } from "./twilio-scheme.ts";

export interface SignRequestInput {
  /** The exact body that will be sent. */
  readonly body: Buffer | string;
  /** Signing time, epoch milliseconds. */
  readonly nowMs: number;
  /**
   * Message id for `{id}`, the scheme's id header and the profile's event-id header. Default: a
   * `msg_…` id derived from the body and `nowMs` (deterministic, distinct per body and time).
   */
  readonly id?: string;
  /** Full URL the request will be sent to, query included. Required by `{url}` and Twilio. */
  readonly url?: string;
}

/**
 * Headers (lower-case names) that make a request with `input.body` verify against `profile` signed
 * with `secret`. The body is never altered: a scheme whose timestamp lives in the body (Linear's
 * `webhookTimestamp`) needs the caller to put it there; a Twilio JSON body needs a URL built with
 * `withBodySha256`.
 *
 * @throws ConfigError when the profile or secret cannot sign (bad template, undecodable secret).
 * @throws TypeError when the scheme signs the URL and `input.url` is absent.
 */
export function signRequest(
  profile: SourceProfile,
  secret: string,
  input: SignRequestInput,
): Record<string, string> {
  const body = typeof input.body === "string" ? Buffer.from(input.body, "utf8") : input.body;
  const id = input.id ?? derivedId(body, input.nowMs);
  const scheme = profile.scheme;
  const headers: Record<string, string> = {};
  switch (scheme.kind) {
    case "hmac":
      Object.assign(headers, signHmac(scheme, secret, body, id, input));
      break;
    case "token":
      headers[headerKey(scheme.header)] = `${scheme.prefix ?? ""}${secret}`;
      break;
    case "twilio":
      headers[twilioSignatureHeader] = twilioSignature(secret, requireUrl(input.url, "twilio"), body);
      break;
    case "none":
      break;
    default: {
      const exhaustive: never = scheme;
      throw new Error(`unknown scheme ${JSON.stringify(exhaustive)}`);
    }
  }
  const eventIdHeader = profile.eventId?.header;
  if (eventIdHeader !== undefined) headers[headerKey(eventIdHeader)] ??= id;
  return headers;
}

function signHmac(
  scheme: HmacScheme,
  secret: string,
  body: Buffer,
  id: string,
  input: SignRequestInput,
): Record<string, string> {
  const content = parseSignedContent(scheme.signedContent);
  if ("problem" in content) throw new ConfigError([`verify.signedContent: ${content.problem}`]);
  const spec = scheme.timestamp;
  const timestamp =
    spec === undefined || spec.jsonPath !== undefined
      ? undefined
      : String(spec.unit === "s" ? Math.floor(input.nowMs / 1000) : input.nowMs);
  const url = content.uses.has("url") ? requireUrl(input.url, "{url}") : undefined;
  const digest = updateWithContent(
    createHmac(scheme.algorithm, secretKeyBytes(secret, scheme.keyEncoding)),
    content.parts,
    { body, timestamp, id, url },
  ).digest(scheme.encoding);

  const signature = `${scheme.signaturePrefix ?? ""}${digest}`;
  const headerValue =
    spec?.signatureKey === undefined
      ? signature
      : `${spec.signatureKey}=${timestamp}${scheme.signatureSeparator ?? ","}${signature}`;
  const headers: Record<string, string> = {};
  for (const name of [scheme.signatureHeader, ...(scheme.signatureHeaderAliases ?? [])]) {
    headers[headerKey(name)] = headerValue;
  }
  if (spec?.header !== undefined && timestamp !== undefined) headers[headerKey(spec.header)] = timestamp;
  if (scheme.idHeader !== undefined && content.uses.has("id")) headers[headerKey(scheme.idHeader)] = id;
  return headers;
}

function derivedId(body: Buffer, nowMs: number): string {
  return `msg_${createHash("sha256").update(`${nowMs}:`).update(body).digest("hex").slice(0, 24)}`;
}

function requireUrl(url: string | undefined, why: string): string {
  if (url === undefined) throw new TypeError(`signRequest: ${why} signs the request URL; pass input.url`);
  return url;
}
