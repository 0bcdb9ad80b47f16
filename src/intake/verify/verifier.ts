/**
 * Request verification, compiled once per source. Threat: forged, tampered or replayed webhooks.
 * This module only dispatches on the scheme; each scheme's module holds its authoritative check
 * (hmac-scheme.ts, token-scheme.ts, twilio-scheme.ts). Intake calls `verify` before parsing
 * anything, on the exact raw bytes, and answers the thrown `HttpError` as is.
 */

import type { RequestHeaders } from "./headers.ts";
import { compileHmacScheme } from "./hmac-scheme.ts";
import type { SourceProfile } from "./spec.ts";
import { compileTokenScheme } from "./token-scheme.ts";
import { compileTwilioScheme } from "./twilio-scheme.ts";

/** One request, as intake received it. */
export interface VerifyInput {
  /** Node's headers: lower-case names, arrays for repeated headers. */
  readonly headers: RequestHeaders;
  /** The exact body bytes, before any parsing. */
  readonly rawBody: Buffer;
  /** The full public URL the sender called, query included (for `{url}` and Twilio). */
  readonly url: string;
  /** Current time in epoch milliseconds (injected clock). */
  readonly nowMs: number;
}

/** A request that passed verification. */
export interface Verified {
  /**
   * Replay nonce: the canonical signature of this request (under the source's first secret).
   * `""` for schemes without a per-request signature (`none`, and `token`, whose only value is
   * the secret itself). Treat as sensitive: store it hashed, never log it.
   */
  readonly signature: string;
  /** The signed timestamp, epoch milliseconds, when the scheme has one. */
  readonly timestampMs?: number;
}

export interface Verifier {
  /**
   * Verifies one request.
   *
   * @throws HttpError `signature_missing`, `malformed_header`, `signature_invalid`, `timestamp_missing`,
   *   `timestamp_stale`, `timestamp_future`, `missing_header`, `malformed_body` (a body timestamp in a
   *   non-JSON body), `invalid_request` (an unparsable URL for Twilio).
   */
  verify(input: VerifyInput): Verified;
}

export interface CompileVerifierOptions {
  /** Config path of the scheme, prefixed to `ConfigError` lines. Default `verify`. */
  readonly configPath?: string;
}

const noVerification: Verifier = { verify: () => ({ signature: "" }) };

/**
 * Compiles `profile.scheme` with its secrets into a verifier: keys decoded, header names
 * lower-cased and the signed-content template parsed once, so `verify` does only per-request work.
 *
 * @param secrets resolved secrets; several = rotation, any one may match. Ignored for `none`.
 * @throws ConfigError listing every problem with the scheme or its secrets.
 */
export function compileVerifier(
  profile: SourceProfile,
  secrets: readonly string[],
  options: CompileVerifierOptions = {},
): Verifier {
  const configPath = options.configPath ?? "verify";
  const scheme = profile.scheme;
  switch (scheme.kind) {
    case "hmac":
      return compileHmacScheme(scheme, secrets, configPath);
    case "token":
      return compileTokenScheme(scheme, secrets, configPath);
    case "twilio":
      return compileTwilioScheme(secrets, configPath);
    case "none":
      return noVerification;
    default: {
      const exhaustive: never = scheme;
      throw new Error(`unknown scheme ${JSON.stringify(exhaustive)}`);
    }
  }
}
