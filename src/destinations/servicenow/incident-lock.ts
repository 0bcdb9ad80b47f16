/**
 * One writer per incident: while a delivery looks an incident up and then creates or updates it, no
 * other delivery of the same fingerprint may do the same, or two "not found" answers would open two
 * incidents (the HA race Alertmanager's Jira receiver users hit, sources.md §1.3).
 *
 * Two layers: an in-process mutex per key (deliveries in this process wait their turn), then a claim
 * in the shared KeyStore (`claim` is atomic across every process on the store). A claim held by
 * another process is not waited for: the delivery comes back shortly (`RetryAfterError`
 * `retry_after`), so a worker slot is never parked on someone else's lock. The claim expires by
 * itself (`ttlMs`) if its holder dies; the TTL outlasts any attempt (30 s deadline).
 */
import { randomUUID } from "node:crypto";
import { RetryAfterError } from "../../domain/errors.ts";
import type { KeyStore } from "../../ports/key-store.ts";

export interface IncidentLockPolicy {
  /** How long a claim lives if its holder never releases it (crash). Above the attempt deadline. */
  readonly ttlMs: number;
  /** When a delivery that found the claim held comes back. */
  readonly busyRetryAfterMs: number;
}

/** A crashed holder blocks its incident for at most a minute; a busy one delays the other by 1.5 s. */
export const incidentLockPolicy: IncidentLockPolicy = Object.freeze({
  ttlMs: 60_000,
  busyRetryAfterMs: 1_500,
});

export class IncidentLock {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * @param keys the shared store; absent: only this process is serialized (tests, tools that build a
   *   destination without a store).
   */
  constructor(
    private readonly keys: KeyStore | undefined,
    private readonly policy: IncidentLockPolicy = incidentLockPolicy,
  ) {}

  /**
   * Runs `fn` holding `key` in this process and in the store.
   * @throws RetryAfterError `retry_after` when another process holds the claim; the signal's reason
   *   when it aborts while waiting for this process's turn; whatever `fn` throws.
   */
  async run<T>(key: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    // The next caller waits for both: our turn may end (abort) before the previous holder's does.
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    try {
      await untilAborted(previous, signal);
      return await this.claimed(key, fn);
    } finally {
      done();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  private async claimed<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (this.keys === undefined) return fn();
    const token = randomUUID();
    if (!(await this.keys.claim(key, this.policy.ttlMs, token))) {
      throw new RetryAfterError(
        "retry_after",
        this.policy.busyRetryAfterMs,
        "another worker is creating or updating this incident; trying again shortly",
      );
    }
    try {
      return await fn();
    } finally {
      await this.release(key, token);
    }
  }

  /**
   * Frees our own claim only: if it expired and another process took it, theirs stays. A store error
   * here is not the delivery's failure (its outcome is already decided): the claim then expires.
   */
  private async release(key: string, token: string): Promise<void> {
    const keys = this.keys;
    if (keys === undefined) return;
    try {
      if ((await keys.get(key)) === token) await keys.delete(key);
    } catch {
      // Expires after `ttlMs`; see above.
    }
  }
}

function untilAborted(wait: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    wait.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
    );
  });
}
