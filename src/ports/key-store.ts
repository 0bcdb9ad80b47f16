/**
 * Short-lived keys with a TTL: replay nonces, `Idempotency-Key` results, cached lookups.
 * Adapters: SQLite, memory, Redis (later). All must pass test/conformance/key-store.conformance.ts.
 */
export interface KeyStore {
  /**
   * Atomically claims `key` for `ttlMs` with an optional value. Returns true if this call claimed it
   * (absent or expired before), false if a live claim exists. Resolves after the claim is durable.
   */
  claim(key: string, ttlMs: number, value?: string): Promise<boolean>;
  /** The live value of `key` ("" when claimed without a value), or undefined if absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Sets (overwrites) `key` for `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Drops expired keys; returns how many. */
  prune(): Promise<number>;
  close(): Promise<void>;
}
