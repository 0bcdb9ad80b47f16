/**
 * Helpers shared by the verifier tests (not used by production code).
 */
import assert from "node:assert/strict";
import { HttpError, type HttpErrorCode } from "../../domain/errors.ts";

/** Runs `fn`, asserts it threw an `HttpError` with `code`, and returns the error. */
export function rejects(fn: () => unknown, code: HttpErrorCode): HttpError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof HttpError, `expected HttpError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}

/** `body` with the byte at `index` XOR-ed with `mask` (1..255): a guaranteed single-byte change. */
export function mutateByte(body: Buffer, index: number, mask: number): Buffer {
  const copy = Buffer.from(body);
  copy[index] = (copy[index] ?? 0) ^ mask;
  return copy;
}
