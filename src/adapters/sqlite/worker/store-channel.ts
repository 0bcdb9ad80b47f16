/**
 * The main thread's end of the store worker: turns method calls into batched messages and replies
 * back into settled promises, fans the worker's notices out, and fails fast when the worker is gone.
 */

import type { Worker } from "node:worker_threads";
import { ZenError } from "../../../domain/errors.ts";
import type { Clock } from "../../../ports/clock.ts";
import { WakeListeners } from "../../wake-listeners.ts";
import {
  type CallBatch,
  type CallMessage,
  decodeError,
  type MethodArgs,
  type MethodName,
  type MethodResult,
  type TargetName,
  type WorkerMessage,
} from "./protocol.ts";

/** Calls queued this many deep leave at once instead of at the end of the turn (bounds one message). */
const maxCallsPerBatch = 1_024;

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export interface StoreChannelOptions {
  /** Injected clock whose time is sent with every batch (tests); absent: the worker reads its own. */
  readonly bridgedClock?: Clock;
  /** Observes each group commit's write count, as `OpenDatabaseOptions.onCommit`. */
  readonly onCommit?: (batchSize: number) => void;
  /** Told once when an open store's worker dies (not on `close`): the store is unavailable from then on. */
  readonly onCrash?: (error: ZenError) => void;
}

/**
 * One per worker. Calls issued in the same turn of the event loop leave as one message at its end
 * (`setImmediate`); the worker answers in order of completion, in batches too.
 */
export class StoreChannel {
  /** Settles once the worker opened the store file (rejects with the reason it could not). */
  readonly ready: Promise<void>;

  private readonly worker: Worker;
  private readonly bridgedClock: Clock | undefined;
  private readonly onCommit: ((batchSize: number) => void) | undefined;
  private readonly onCrash: ((error: ZenError) => void) | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly enqueuedListeners = new WakeListeners();
  private outbox: CallMessage[] = [];
  private flushScheduled: NodeJS.Immediate | undefined;
  private nextId = 1;
  /** Set once the worker is gone (crashed or closed): every call rejects with it. */
  private failure: ZenError | undefined;
  private settleReady: { resolve(): void; reject(error: unknown): void } | undefined;
  private closing: Promise<void> | undefined;
  private opened = false;

  constructor(worker: Worker, options: StoreChannelOptions = {}) {
    this.worker = worker;
    this.bridgedClock = options.bridgedClock;
    this.onCommit = options.onCommit;
    this.onCrash = options.onCrash;
    this.ready = new Promise<void>((resolve, reject) => (this.settleReady = { resolve, reject }));
    // Awaited by whoever opens the stores; a later crash must not surface as an unhandled rejection.
    this.ready.catch(() => {});
    worker.on("message", (messages: readonly WorkerMessage[]) => this.receive(messages));
    worker.on("error", (error) =>
      this.crashed(new ZenError("store_unavailable", "the SQLite store worker crashed", { cause: error })),
    );
    worker.on("exit", (code) =>
      this.crashed(new ZenError("store_unavailable", `the SQLite store worker exited (code ${code})`)),
    );
  }

  /** False once the worker is gone. */
  get alive(): boolean {
    return this.failure === undefined;
  }

  /**
   * Runs `target.method(...args)` in the worker.
   * @throws ZenError `store_unavailable` (as a rejection) once the worker crashed or was closed; the
   *   store's own errors (e.g. HttpError `invalid_request`) arrive rebuilt with their class and code.
   */
  call<T extends TargetName, M extends MethodName<T>>(
    target: T,
    method: M,
    args: MethodArgs<T, M>,
  ): Promise<MethodResult<T, M>> {
    return this.send(target, method as string, args) as Promise<MethodResult<T, M>>;
  }

  /** Subscribes to the worker's `enqueued` notices; returns the unsubscribe function. */
  onEnqueued(listener: () => void): () => void {
    return this.enqueuedListeners.add(listener);
  }

  /** Closes the store file in the worker (committing pending writes), then ends the worker. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.failure) return;
    try {
      await this.send("stores", "close", []);
    } finally {
      this.fail(new ZenError("store_unavailable", "the database is closed"));
      await this.worker.terminate();
    }
  }

  private send(target: CallMessage["target"], method: string, args: readonly unknown[]): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.outbox.push({ id, target, method, args });
      if (this.outbox.length >= maxCallsPerBatch) this.flush();
      else this.flushScheduled ??= setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    const calls = this.outbox;
    this.outbox = [];
    if (calls.length === 0 || this.failure) return;
    const now = this.bridgedClock?.now();
    try {
      this.worker.postMessage(batchOf(now, calls));
    } catch {
      // One argument could not be cloned (e.g. a function): fail that call alone, send the others.
      for (const call of calls) {
        try {
          this.worker.postMessage(batchOf(now, [call]));
        } catch (error) {
          this.settle(call.id, (p) => p.reject(error));
        }
      }
    }
  }

  private receive(messages: readonly WorkerMessage[]): void {
    for (const message of messages) {
      switch (message.kind) {
        case "reply":
          if (message.ok) this.settle(message.id, (p) => p.resolve(message.value));
          else this.settle(message.id, (p) => p.reject(decodeError(message.error)));
          break;
        case "enqueued":
          this.enqueuedListeners.notify();
          break;
        case "committed":
          try {
            this.onCommit?.(message.batchSize);
          } catch {
            // A metrics hook must not turn a durable commit into a failure for its callers.
          }
          break;
        case "ready":
          this.opened = true;
          // From now on only waiting calls keep the process alive: an idle store does not (as in-thread).
          if (this.pending.size === 0) this.worker.unref();
          this.settleReady?.resolve();
          break;
        case "open_failed":
          this.settleReady?.reject(decodeError(message.error));
          break;
        default: {
          const _exhaustive: never = message;
          throw new Error(`unknown store worker message ${JSON.stringify(_exhaustive)}`);
        }
      }
    }
  }

  private settle(id: number, how: (pending: Pending) => void): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    how(pending);
  }

  private crashed(error: ZenError): void {
    if (this.failure) return;
    this.fail(error);
    if (!this.opened) return;
    try {
      this.onCrash?.(error);
    } catch {
      // Reporting the crash must not stop the rejections that already went out.
    }
  }

  /** The worker is gone: reject everything waiting and everything to come. Idempotent. */
  private fail(error: ZenError): void {
    if (this.failure) return;
    this.failure = error;
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    this.outbox = [];
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.worker.unref();
    for (const pending of waiting) pending.reject(error);
    this.settleReady?.reject(error);
  }
}

function batchOf(now: number | undefined, calls: readonly CallMessage[]): CallBatch {
  return now === undefined ? { calls } : { now, calls };
}
