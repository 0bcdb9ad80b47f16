/**
 * Serializes work on one ticket fingerprint, so two deliveries of the same incident cannot both
 * search, find nothing and both create (the HA duplicate-issue race Alertmanager's Jira receiver hit,
 * jiralert#119). Two layers:
 *
 * - in this process, a FIFO mutex per key (no polling, fair order);
 * - across processes, a claim in the shared KeyStore (`claim` is atomic in every adapter) holding a
 *   random token, released in `finally` only if the token is still ours. The TTL outlives any attempt
 *   (the attempt deadline is 30 s), so a crashed holder blocks the key for at most `ttlMs`.
 *
 * A key still held after `waitMs` (in this process, then again across processes) gives a `DeferredError`
 * (`lock_busy`): the queue comes back shortly, uncharged, instead of blocking a worker slot.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { classifyNetworkError } from "../domain/classify.ts";
import { DeferredError } from "../domain/errors.ts";
import type { KeyStore } from "../ports/key-store.ts";

export interface TicketLockPolicy {
  /** Lifetime of a cross-process claim; must exceed the longest attempt. */
  readonly ttlMs: number;
  /** How long one attempt waits for a held key before giving up with `lock_busy`. */
  readonly waitMs: number;
  /** Pause between two claims of a key held by another process. */
  readonly pollMs: number;
  /** The `DeferredError` delay when the key stayed held. */
  readonly busyDelayMs: number;
}

/**
 * Wall clock: a delivery waits up to 5 s (polling every 100 ms) for another worker working on the same
 * incident, then comes back 1.5 s later; a crashed worker's claim lapses after 60 s, twice the attempt
 * deadline.
 */
export const ticketLockPolicy: TicketLockPolicy = Object.freeze({
  ttlMs: 60_000,
  waitMs: 5_000,
  pollMs: 100,
  busyDelayMs: 1_500,
});

type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

const abortableSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal });

export class TicketLocks {
  private readonly keys: KeyStore | undefined;
  private readonly policy: TicketLockPolicy;
  private readonly sleep: Sleep;
  /** Per key, the promise the next in-process holder waits for. */
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * @param keys the shared KeyStore; undefined: in-process serialization only (one process, tests).
   * @param sleep injected by tests; default an abortable `setTimeout`.
   */
  constructor(
    keys: KeyStore | undefined,
    policy: TicketLockPolicy = ticketLockPolicy,
    sleep: Sleep = abortableSleep,
  ) {
    this.keys = keys;
    this.policy = policy;
    this.sleep = sleep;
  }

  /**
   * Runs `work` while holding `key` in this process and in the KeyStore.
   * @throws DeferredError `lock_busy` when the key stayed held for `waitMs`; a `timeout`
   *   RetryableError when `signal` aborts while waiting; whatever `work` throws.
   */
  async withLock<T>(key: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let releaseLocal!: () => void;
    const mine = new Promise<void>((resolve) => {
      releaseLocal = resolve;
    });
    // Whoever comes next waits for the previous holder *and* us, even if we give up early.
    const tail = previous ? previous.then(() => mine) : mine;
    this.tails.set(key, tail);
    try {
      if (previous) await this.waitLocal(previous, signal);
      const token = await this.claim(key, signal);
      try {
        return await work();
      } finally {
        await this.release(key, token);
      }
    } finally {
      releaseLocal();
      // Forget the key once the whole chain up to us is done (not when we merely gave up waiting:
      // the holder before us may still be running) and nobody queued behind us.
      void tail.then(() => {
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
    }
  }

  private async waitLocal(previous: Promise<void>, signal: AbortSignal): Promise<void> {
    const timeout = new AbortController();
    const onAbort = () => timeout.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const timer = this.sleep(this.policy.waitMs, timeout.signal).then(
      () => "timeout" as const,
      () => "aborted" as const,
    );
    try {
      const outcome = await Promise.race([previous.then(() => "free" as const), timer]);
      if (outcome === "free") return;
      if (signal.aborted) throw classifyNetworkError(signal.reason);
      throw this.busy();
    } finally {
      timeout.abort();
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Claims the key in the KeyStore, polling up to `waitMs / pollMs` times. */
  private async claim(key: string, signal: AbortSignal): Promise<string | undefined> {
    if (!this.keys) return undefined;
    const token = randomUUID();
    const polls = Math.ceil(this.policy.waitMs / Math.max(1, this.policy.pollMs));
    for (let poll = 0; ; poll++) {
      if (await this.keys.claim(key, this.policy.ttlMs, token)) return token;
      if (poll >= polls) throw this.busy();
      try {
        await this.sleep(this.policy.pollMs, signal);
      } catch {
        throw classifyNetworkError(signal.reason);
      }
    }
  }

  private async release(key: string, token: string | undefined): Promise<void> {
    if (!this.keys || token === undefined) return;
    try {
      // Only our own claim: after a TTL lapse another process may hold the key now.
      if ((await this.keys.get(key)) === token) await this.keys.delete(key);
    } catch {
      // The work is done; failing the delivery now would only repeat it. The TTL frees the key.
    }
  }

  private busy(): DeferredError {
    return new DeferredError(
      this.policy.busyDelayMs,
      "another delivery is updating the ticket for this incident; retrying shortly",
    );
  }
}
