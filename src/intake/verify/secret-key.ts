/**
 * Turning a configured secret into HMAC key bytes. Threat: a key decoded the wrong way (Stripe's
 * `whsec_…` is used verbatim, Standard Webhooks' is base64-decoded) makes every genuine request fail,
 * and an empty key makes signatures forgeable; both are refused here, at compile time.
 */
import { createSecretKey, type KeyObject } from "node:crypto";
import { ConfigError } from "../../domain/errors.ts";
import type { HmacScheme } from "./spec.ts";

export type KeyEncoding = HmacScheme["keyEncoding"];

const whsecPrefix = "whsec_";
/** Standard or URL-safe base64, padding optional. */
const base64Pattern = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * The key bytes of `secret`: `utf8` as written, `base64` decoded, `whsec` with an optional `whsec_`
 * prefix stripped and then base64-decoded (the Standard Webhooks library's rule).
 *
 * @param where names the config field in error messages; the secret itself is never printed.
 * @throws ConfigError when the secret is empty, is not valid base64 for `base64`/`whsec`, or decodes to nothing.
 */
export function secretKeyBytes(secret: string, encoding: KeyEncoding, where = "secrets"): Buffer {
  if (encoding === "utf8") {
    if (secret === "") throw new ConfigError([`${where}: a secret is empty`]);
    return Buffer.from(secret, "utf8");
  }
  const text =
    encoding === "whsec" && secret.startsWith(whsecPrefix) ? secret.slice(whsecPrefix.length) : secret;
  const bytes = base64Pattern.test(text) ? Buffer.from(text, "base64") : Buffer.alloc(0);
  if (bytes.length === 0) {
    const shape = encoding === "whsec" ? "whsec_<base64>" : "base64";
    throw new ConfigError([`${where}: a secret is not ${shape} (keyEncoding ${encoding})`]);
  }
  return bytes;
}

/** `secretKeyBytes` wrapped in a `KeyObject`, so a stray log or inspect of a verifier shows no key bytes. */
export function secretKey(secret: string, encoding: KeyEncoding, where?: string): KeyObject {
  return createSecretKey(secretKeyBytes(secret, encoding, where));
}
