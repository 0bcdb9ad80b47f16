/**
 * Signing of outbound webhooks per Standard Webhooks (standardwebhooks.com): HMAC-SHA256 over
 * `{webhook-id}.{webhook-timestamp}.{body}`, sent as `webhook-signature: v1,<base64>`. Receivers
 * verify it with any Standard Webhooks library; our tests cross-check with the `standardwebhooks`
 * package. The secret never leaves this module except as HMAC output.
 */
import { createHmac } from "node:crypto";

const whsecPrefix = "whsec_";
const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The HMAC key of a destination secret: `whsec_<base64>` is base64-decoded (the Standard Webhooks
 * convention), anything else is used as its UTF-8 bytes.
 * @throws Error when the secret is empty or a `whsec_` secret is not valid base64.
 */
export function signingKey(secret: string): Buffer {
  if (secret.startsWith(whsecPrefix)) {
    const encoded = secret.slice(whsecPrefix.length);
    // Buffer.from(…, "base64") silently skips bad characters; a typo must not become a different key.
    if (!base64Pattern.test(encoded) || encoded.length % 4 !== 0) {
      throw new Error("a whsec_ secret must be base64 after the prefix");
    }
    return Buffer.from(encoded, "base64");
  }
  if (secret === "") throw new Error("the signing secret is empty");
  return Buffer.from(secret, "utf8");
}

/** The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "{id}.{timestampSeconds}.{body}">`. */
export function signStandardWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`, "utf8").digest("base64");
  return `v1,${mac}`;
}
