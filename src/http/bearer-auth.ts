/**
 * Bearer-token checks for the operator APIs (`/admin`, the ticket APIs). Tokens are compared as
 * SHA-256 digests with `timingSafeEqual`, so neither the content nor the length of the expected
 * token leaks through timing. Tokens are never logged.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "../domain/errors.ts";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** A checker for `Authorization: Bearer <token>` accepting any of `tokens` (scheme case-insensitive). */
export function bearerChecker(
  tokens: readonly string[],
): (authorization: string | string[] | undefined) => void {
  const expected = tokens.map(digest);
  return (authorization) => {
    const match = typeof authorization === "string" ? /^bearer +(.+)$/i.exec(authorization) : null;
    const given = match?.[1] === undefined ? undefined : digest(match[1]);
    // Compare against every token so the time does not say which one (or none) matched.
    let ok = false;
    for (const candidate of expected) if (given !== undefined && timingSafeEqual(given, candidate)) ok = true;
    if (!ok) throw new HttpError("unauthorized", "missing or invalid bearer token");
  };
}
