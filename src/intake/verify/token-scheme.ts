/**
 * The shared-token verifier (GitLab classic `X-Gitlab-Token`, Falcosidekick bearer headers). Threat:
 * requests from anyone who does not hold the token, and timing attacks that guess it byte by byte.
 * The authoritative check is `verify` below: SHA-256 of the received token and of each secret,
 * compared with `timingSafeEqual` (equal lengths, so not even the token's length leaks).
 * A token proves the sender, not the body: there is no integrity or replay protection.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError, HttpError } from "../../domain/errors.ts";
import { headerKey, singleHeader } from "./headers.ts";
import type { TokenScheme } from "./spec.ts";
import type { Verifier } from "./verifier.ts";

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Compiles a token scheme. `verify` returns `signature: ""`: the only per-request value is the
 * token itself, which must never be stored as a nonce.
 *
 * @throws ConfigError when there is no secret or a secret is empty.
 */
export function compileTokenScheme(
  scheme: TokenScheme,
  secrets: readonly string[],
  configPath: string,
): Verifier {
  if (secrets.length === 0 || secrets.some((secret) => secret === "")) {
    throw new ConfigError([`${configPath}: at least one secret is required, and none may be empty`]);
  }
  const header = headerKey(scheme.header);
  const prefix = scheme.prefix ?? "";
  const hashes = secrets.map(sha256);
  return {
    verify(input) {
      const value = singleHeader(input.headers, header);
      if (value === undefined) {
        throw new HttpError("signature_missing", `token header ${header} is missing or empty`);
      }
      if (!value.startsWith(prefix)) {
        throw new HttpError("malformed_header", `token header ${header} does not start with "${prefix}"`);
      }
      const received = sha256(value.slice(prefix.length));
      if (!hashes.some((hash) => timingSafeEqual(hash, received))) {
        throw new HttpError(
          "signature_invalid",
          `token in header ${header} does not match any configured secret`,
        );
      }
      return { signature: "" };
    },
  };
}
