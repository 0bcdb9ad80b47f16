/**
 * Where token buckets live. The math is pure (src/domain/token-bucket.ts); a store owns the atomic
 * read-modify-write of one bucket, so that two concurrent takes can never both spend the same token.
 * Adapters: memory (one process; buckets are process state), Redis (later: shared between processes,
 * the read-modify-write done in one Lua script). All must pass
 * test/conformance/rate-limit-store.conformance.ts.
 *
 * Keys are opaque to the store. Callers prefix them per use so delivery and intake never share a
 * bucket, e.g. `delivery:acme:slack` (per `tenant:destination`) and `intake:acme` (per tenant).
 */
import type { BucketPolicy, TakeResult } from "../domain/token-bucket.ts";

export interface RateLimitStore {
  /**
   * Atomically refills the bucket `key` to now, then takes `cost` tokens (default 1) or refuses with
   * the exact `retryAfterMs`. A bucket that does not exist yet starts full. `policy` is the one in
   * force now: each call applies its own (a lowered capacity trims a fuller bucket), and the store
   * remembers the last one for `cleanup`.
   * @throws RangeError (rejects) for an invalid policy or a cost outside (0, capacity].
   */
  take(key: string, policy: BucketPolicy, cost?: number): Promise<TakeResult>;
  /**
   * Drops every bucket that is full (by the policy of its last take) and has not been taken from for
   * `idleMs` or more; answers how many. Never drops a bucket that is not full, so it never changes
   * the answer of a later `take`: an absent bucket starts full.
   */
  cleanup(idleMs: number): Promise<number>;
  /** How many buckets the store holds (for metrics and tests). */
  size(): Promise<number>;
  close(): Promise<void>;
}
