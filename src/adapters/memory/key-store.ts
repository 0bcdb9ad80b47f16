/** In-memory KeyStore for tests; same semantics as the SQLite one (test/conformance/key-store.conformance.ts). */
import { type Clock, systemClock } from "../../ports/clock.ts";
import type { KeyStore } from "../../ports/key-store.ts";

export interface MemoryKeyStoreOptions {
  /** Default: the system clock. */
  readonly clock?: Clock;
}

interface StoredKey {
  readonly value: string;
  /** ms since epoch; the key is live while `expiresAt > now`. */
  readonly expiresAt: number;
}

/** KeyStore in a Map: a key is live while `expiresAt > now`. Nothing is durable. */
export class MemoryKeyStore implements KeyStore {
  private readonly clock: Clock;
  private readonly keys = new Map<string, StoredKey>();

  constructor(options: MemoryKeyStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async claim(key: string, ttlMs: number, value = ""): Promise<boolean> {
    const now = this.clock.now();
    if (this.isLive(this.keys.get(key), now)) return false;
    this.keys.set(key, { value, expiresAt: now + ttlMs });
    return true;
  }

  async get(key: string): Promise<string | undefined> {
    const stored = this.keys.get(key);
    return this.isLive(stored, this.clock.now()) ? stored?.value : undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.keys.set(key, { value, expiresAt: this.clock.now() + ttlMs });
  }

  async delete(key: string): Promise<boolean> {
    const stored = this.keys.get(key);
    this.keys.delete(key);
    return this.isLive(stored, this.clock.now());
  }

  async prune(): Promise<number> {
    const now = this.clock.now();
    let pruned = 0;
    for (const [key, stored] of this.keys) {
      if (!this.isLive(stored, now)) {
        this.keys.delete(key);
        pruned++;
      }
    }
    return pruned;
  }

  async close(): Promise<void> {}

  private isLive(stored: StoredKey | undefined, now: number): boolean {
    return stored !== undefined && stored.expiresAt > now;
  }
}
