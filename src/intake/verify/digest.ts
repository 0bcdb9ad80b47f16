/**
 * Decoding received digests and comparing them with expected ones. Threat: timing side channels and
 * lenient decoders. Comparison is `timingSafeEqual` on decoded bytes after a length check; decoding
 * is strict (exact length, only the alphabet's characters) so trailing junk is never "ignored".
 */
import { timingSafeEqual } from "node:crypto";
import type { HmacScheme } from "./spec.ts";

export type DigestAlgorithm = HmacScheme["algorithm"];
export type DigestEncoding = HmacScheme["encoding"];

const digestBytes: Readonly<Record<DigestAlgorithm, number>> = { sha1: 20, sha256: 32, sha512: 64 };

/** Length in bytes of an HMAC digest with `algorithm`. */
export function digestLength(algorithm: DigestAlgorithm): number {
  return digestBytes[algorithm];
}

const hexPattern = /^[0-9a-fA-F]+$/;
/** Standard base64 alphabet; padding is checked separately. */
const base64Pattern = /^[A-Za-z0-9+/]+$/;

/**
 * The digest bytes encoded in `text`, or `undefined` when `text` is not exactly one `length`-byte
 * digest in `encoding` (hex of either case; base64 with or without padding).
 */
export function decodeDigest(text: string, encoding: DigestEncoding, length: number): Buffer | undefined {
  if (encoding === "hex") {
    return text.length === length * 2 && hexPattern.test(text) ? Buffer.from(text, "hex") : undefined;
  }
  const unpaddedLength = Math.ceil((length * 4) / 3);
  const paddedLength = Math.ceil(length / 3) * 4;
  const data = text.length === paddedLength ? text.slice(0, unpaddedLength) : text;
  if (data.length !== unpaddedLength || !base64Pattern.test(data)) return undefined;
  if (text.length === paddedLength && !/^=*$/.test(text.slice(unpaddedLength))) return undefined;
  return Buffer.from(data, "base64");
}

/** The canonical text of a digest: lower-case hex, or padded standard base64. */
export function encodeDigest(digest: Buffer, encoding: DigestEncoding): string {
  return digest.toString(encoding);
}

/** Human description of the expected digest, for error messages (`64 hex characters`). */
export function describeDigest(encoding: DigestEncoding, length: number): string {
  return encoding === "hex"
    ? `${length * 2} hex characters`
    : `${Math.ceil(length / 3) * 4} base64 characters`;
}

/** True when any candidate equals `expected`, compared in constant time per candidate. */
export function matchesAny(expected: Buffer, candidates: readonly Buffer[]): boolean {
  for (const candidate of candidates) {
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return true;
  }
  return false;
}
