/**
 * The Twilio verifier (twilio-node `validateRequest` / `validateRequestWithBody`). Threat: forged
 * callbacks. The authoritative check is `verify` below: base64 HMAC-SHA1 under the auth token of
 * the public URL followed by the sorted form parameters, tried with and without the default port,
 * compared in constant time. Form signatures cover the decoded parameters, not the raw bytes (two
 * encodings of the same parameters verify alike). JSON bodies are signed through the URL's
 * `bodySHA256` parameter, and the body's SHA-256 is then checked against it.
 */
import { createHash, createHmac, type KeyObject } from "node:crypto";
import { ConfigError, HttpError } from "../../domain/errors.ts";
import { decodeDigest, digestLength, encodeDigest, matchesAny } from "./digest.ts";
import { singleHeader } from "./headers.ts";
import { secretKey } from "./secret-key.ts";
import type { Verifier } from "./verifier.ts";

/** Header carrying the signature. */
export const twilioSignatureHeader = "x-twilio-signature";
/** Query parameter carrying the hex SHA-256 of a JSON body. */
const bodyHashParam = "bodySHA256";
const sha1Length = digestLength("sha1");

/**
 * The request's form parameters as Twilio signs them: `key + value` for keys in sorted order; a
 * repeated key's distinct values sorted.
 */
export function formParamsText(rawBody: Buffer): string {
  const params = new Map<string, Set<string>>();
  for (const [key, value] of new URLSearchParams(rawBody.toString("utf8"))) {
    const values = params.get(key);
    if (values === undefined) {
      params.set(key, new Set([value]));
    } else {
      values.add(value);
    }
  }
  let text = "";
  for (const key of [...params.keys()].sort()) {
    for (const value of [...(params.get(key) ?? [])].sort()) text += key + value;
  }
  return text;
}

/**
 * The URL spellings Twilio may have signed: without a port, and with the scheme's default port
 * (`:443`/`:80`) or the explicit one. Twilio's back end is inconsistent about the default port.
 */
export function twilioUrlVariants(url: URL): [withoutPort: string, withPort: string] {
  const withoutPort = new URL(url.href);
  withoutPort.port = "";
  if (url.port !== "") return [withoutPort.href, url.href];
  const userinfo =
    url.username === "" && url.password === ""
      ? ""
      : `${url.username}${url.password === "" ? "" : `:${url.password}`}@`;
  const port = url.protocol === "https:" ? "443" : "80";
  return [
    withoutPort.href,
    `${url.protocol}//${userinfo}${url.hostname}:${port}${url.pathname}${url.search}${url.hash}`,
  ];
}

/** `url` with `bodySHA256=<hex sha256(body)>` appended: how Twilio addresses a JSON-bodied callback. */
export function withBodySha256(url: string, body: Buffer | string): string {
  const parsed = new URL(url);
  const param = `${bodyHashParam}=${createHash("sha256").update(body).digest("hex")}`;
  // Appended as text: re-serializing through searchParams would re-encode the existing query.
  parsed.search = parsed.search === "" ? `?${param}` : `${parsed.search}&${param}`;
  return parsed.href;
}

/** The `X-Twilio-Signature` value for a request to `url` with `rawBody`, signed with `authToken` (for `signRequest`). */
export function twilioSignature(authToken: string, url: string, rawBody: Buffer): string {
  const parsed = new URL(url);
  const params = parsed.searchParams.has(bodyHashParam) ? "" : formParamsText(rawBody);
  return createHmac("sha1", authToken).update(parsed.href, "utf8").update(params, "utf8").digest("base64");
}

/**
 * Compiles the Twilio scheme with its auth tokens (several = primary and secondary token).
 *
 * @throws ConfigError when there is no token or one is empty.
 */
export function compileTwilioScheme(secrets: readonly string[], configPath: string): Verifier {
  if (secrets.length === 0) throw new ConfigError([`${configPath}: at least one auth token is required`]);
  const keys: KeyObject[] = secrets.map((secret, index) => secretKey(secret, "utf8", `secrets[${index}]`));
  return {
    verify(input) {
      const header = singleHeader(input.headers, twilioSignatureHeader);
      if (header === undefined) {
        throw new HttpError(
          "signature_missing",
          `signature header ${twilioSignatureHeader} is missing or empty`,
        );
      }
      const received = decodeDigest(header, "base64", sha1Length);
      if (received === undefined) {
        throw new HttpError(
          "signature_invalid",
          `signature in ${twilioSignatureHeader} is not a base64 sha1 digest`,
        );
      }
      const url = parseUrl(input.url);
      const bodyHash = url.searchParams.get(bodyHashParam);
      const params = bodyHash === null ? formParamsText(input.rawBody) : "";
      const nonce = matchSignature(keys, twilioUrlVariants(url), params, received);
      if (nonce === undefined) {
        throw new HttpError(
          "signature_invalid",
          `${twilioSignatureHeader} does not match this request; check the auth token and that the URL is the public one Twilio calls`,
        );
      }
      if (bodyHash !== null) checkBodyHash(input.rawBody, bodyHash);
      return { signature: nonce };
    },
  };
}

/** On a match, the nonce: the first key's digest over the port-less URL, whatever variant matched. */
function matchSignature(
  keys: readonly KeyObject[],
  urls: readonly string[],
  params: string,
  received: Buffer,
): string | undefined {
  let first: Buffer | undefined;
  for (const key of keys) {
    for (const url of urls) {
      const digest = createHmac("sha1", key).update(url, "utf8").update(params, "utf8").digest();
      first ??= digest;
      if (matchesAny(digest, [received])) return encodeDigest(first, "base64");
    }
  }
  return undefined;
}

function checkBodyHash(rawBody: Buffer, bodyHash: string): void {
  const expected = createHash("sha256").update(rawBody).digest();
  const claimed = decodeDigest(bodyHash, "hex", expected.length);
  if (claimed === undefined || !matchesAny(expected, [claimed])) {
    throw new HttpError("signature_invalid", `body does not match the URL's ${bodyHashParam} parameter`);
  }
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new HttpError(
      "invalid_request",
      "the request URL cannot be parsed; Twilio signatures cover the full URL",
    );
  }
}
