/**
 * RateLimitStore in a Map: what a single process uses in production, not only in tests.
 *
 * Buckets are process state on purpose. They need not be durable: losing them (restart, crash) only
 * refills every bucket, which allows at most one extra burst of `capacity` per key, a bound the
 * limit already accepts after any quiet period. Persisting them would put a write on every delivery
 * for nothing. They need to be shared only when several processes deliver for the same tenant, and
 * that is the Redis adapter's job. Each call reads, computes and writes before its first `await`, so
 * calls are atomic with respect to each other (same conformance suite as every adapter).
 */
import {
  type BucketPolicy,
  type BucketState,
  isIdleAndFull,
  type TakeResult,
  takeToken,
} from "../../domain/token-bucket.ts";
import { type Clock, systemClock } from "../../ports/clock.ts";
import type { RateLimitStore } from "../../ports/rate-limit-store.ts";

export interface MemoryRateLimitStoreOptions {
  /** Default: the system clock. */
  readonly clock?: Clock;
}

interface StoredBucket {
  readonly state: BucketState;
  /** The policy of the last take: cleanup judges "full" against it. */
  readonly policy: BucketPolicy;
}

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly clock: Clock;
  private readonly buckets = new Map<string, StoredBucket>();

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async take(key: string, policy: BucketPolicy, cost = 1): Promise<TakeResult> {
    const result = takeToken(this.buckets.get(key)?.state, policy, this.clock.now(), cost);
    this.buckets.set(key, { state: result.state, policy: { ...policy } });
    return result;
  }

  async cleanup(idleMs: number): Promise<number> {
    const now = this.clock.now();
    let dropped = 0;
    for (const [key, bucket] of this.buckets) {
      if (isIdleAndFull(bucket.state, bucket.policy, now, idleMs)) {
        this.buckets.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  async size(): Promise<number> {
    return this.buckets.size;
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}
