/**
 * `Idempotency-Key` for the synchronous ticket APIs (`POST /jira/issue`, `POST /servicenow/ticket`):
 * a retry with the same key returns the first answer and creates nothing. The first request claims
 * the key in the KeyStore (durable, shared by every process on the store) before calling the
 * provider; a concurrent twin gets 409 until the first finishes; a failure frees the key so the
 * caller can retry. The same key with a different body is refused (422), as in the IETF draft.
 */
import { createHash } from "node:crypto";
import { HttpError } from "../domain/errors.ts";
import type { KeyStore } from "../ports/key-store.ts";

/** How long a key's answer is kept: a client's retries span minutes to hours, not days. */
export const idempotencyKeyTtlMs = 24 * 60 * 60 * 1000;

const maxKeyLength = 255;

export interface StoredAnswer {
  readonly status: number;
  readonly body: unknown;
}

interface Record {
  readonly state: "pending" | "done";
  readonly requestHash: string;
  readonly answer?: StoredAnswer;
}

export interface IdempotentResult extends StoredAnswer {
  /** True when this is the stored answer of an earlier request. */
  readonly replayed: boolean;
}

/**
 * Runs `create` at most once per (`scope`, `key`). Without a key it just runs.
 * @throws HttpError `invalid_request` (bad key), `idempotency_in_progress` (409), `idempotency_key_reused` (422)
 */
export async function withIdempotencyKey(
  keys: KeyStore,
  scope: string,
  key: string | undefined,
  requestBody: string,
  create: () => Promise<StoredAnswer>,
): Promise<IdempotentResult> {
  if (key === undefined) return { ...(await create()), replayed: false };
  if (key.length === 0 || key.length > maxKeyLength || /[^\x21-\x7e]/.test(key)) {
    throw new HttpError(
      "invalid_request",
      `Idempotency-Key must be 1–${maxKeyLength} visible ASCII characters`,
    );
  }
  const storeKey = `idem:${scope}:${createHash("sha256").update(key).digest("hex")}`;
  const requestHash = createHash("sha256").update(requestBody).digest("hex");
  const pending: Record = { state: "pending", requestHash };
  if (!(await keys.claim(storeKey, idempotencyKeyTtlMs, JSON.stringify(pending)))) {
    const stored = JSON.parse((await keys.get(storeKey)) ?? "null") as Record | null;
    if (stored === null)
      throw new HttpError("idempotency_in_progress", "the first request with this key just expired; retry");
    if (stored.requestHash !== requestHash) {
      throw new HttpError(
        "idempotency_key_reused",
        "this Idempotency-Key was used with a different request body",
      );
    }
    if (stored.state === "pending" || !stored.answer) {
      throw new HttpError(
        "idempotency_in_progress",
        "a request with this Idempotency-Key is still being processed",
      );
    }
    return { ...stored.answer, replayed: true };
  }
  let answer: StoredAnswer;
  try {
    answer = await create();
  } catch (err) {
    await keys.delete(storeKey);
    throw err;
  }
  const done: Record = { state: "done", requestHash, answer };
  await keys.set(storeKey, JSON.stringify(done), idempotencyKeyTtlMs);
  return { ...answer, replayed: false };
}
