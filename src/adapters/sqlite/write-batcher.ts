/**
 * Group commit: every write of the SQLite adapters (enqueue, queue transitions, key claims, trail
 * appends) is queued here and committed together with its neighbours in ONE transaction, so one
 * fsync covers many callers. With `synchronous=FULL` the fsync is the cost of a commit; batching is
 * what makes ~10k enqueues/s possible on a small machine.
 *
 * Guarantees:
 * - A caller's promise resolves only after the transaction holding its write has committed.
 * - Each write runs in its own SAVEPOINT, so a write that throws is rolled back alone and only its
 *   caller rejects; the rest of the batch still commits.
 * - If the batch as a whole fails on a constraint checked at COMMIT (deferred constraints), every
 *   write is retried in its own transaction so only the culprit rejects. Other batch failures (disk
 *   full, I/O error, lock timeout) are environmental: retrying would fail the same way (and a lock
 *   timeout would block the event loop once per write), so every caller of the batch rejects with it.
 */
import type BetterSqlite3 from "better-sqlite3";
import { ZenError } from "../../domain/errors.ts";

/** Batch size that triggers an immediate flush instead of waiting for the next tick. */
export const defaultMaxBatchSize = 256;

export interface WriteBatcherOptions {
  readonly db: BetterSqlite3.Database;
  /**
   * How long a batch may wait for company before it commits, in ms. Default 0: commit on the next
   * turn of the event loop (`setImmediate`), which already gathers every write issued in this turn.
   */
  readonly commitWindowMs?: number;
  /** A batch this large commits at once. Default {@link defaultMaxBatchSize}. */
  readonly maxBatchSize?: number;
  /** Called after each committed transaction with the number of writes it made durable (metrics). */
  readonly onCommit?: (batchSize: number) => void;
  /**
   * Makes a committed batch durable (e.g. an off-thread fsync of the WAL, see wal-sync.ts); callers
   * hear of their writes only after it resolves. Absent: the commit itself is durable enough.
   */
  readonly afterCommit?: () => Promise<void>;
  /**
   * Asked before a scheduled commit (not before an explicit {@link WriteBatcher.flush}): false holds
   * the batch, which is committed when `resume` is called (e.g. until a background WAL checkpoint
   * catches up, see checkpointer.ts). The event loop keeps running meanwhile; only the held writers wait.
   */
  readonly mayCommit?: (resume: () => void) => boolean;
}

interface PendingWrite {
  readonly run: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

/** One per database file: every writer of the file must go through the same batcher. */
export class WriteBatcher {
  private readonly commitWindowMs: number;
  private readonly maxBatchSize: number;
  private readonly onCommit: ((batchSize: number) => void) | undefined;
  private readonly afterCommit: (() => Promise<void>) | undefined;
  private readonly mayCommit: ((resume: () => void) => boolean) | undefined;
  private holding = false;
  /** Runs one write; nested inside a batch it is a SAVEPOINT, at top level its own transaction. */
  private readonly runOne: BetterSqlite3.Transaction<(run: () => unknown) => unknown>;
  private readonly runBatch: BetterSqlite3.Transaction<(batch: readonly PendingWrite[]) => Outcome[]>;
  private pending: PendingWrite[] = [];
  private timer: { cancel(): void } | undefined;
  private closed = false;

  constructor(options: WriteBatcherOptions) {
    this.commitWindowMs = options.commitWindowMs ?? 0;
    this.maxBatchSize = options.maxBatchSize ?? defaultMaxBatchSize;
    this.onCommit = options.onCommit;
    this.afterCommit = options.afterCommit;
    this.mayCommit = options.mayCommit;
    this.runOne = options.db.transaction((run: () => unknown) => run());
    this.runBatch = options.db.transaction((batch: readonly PendingWrite[]) =>
      batch.map((write): Outcome => {
        try {
          return { ok: true, value: this.runOne(write.run) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  }

  /**
   * Queues a synchronous write `run` (it must only touch the database) and resolves with its result
   * once committed. `run` executes later, at flush time: read the clock inside it, not before.
   * @throws ZenError `store_unavailable` (as a rejection) after {@link close}.
   */
  submit<T>(run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new ZenError("store_unavailable", "the database is closed"));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length >= this.maxBatchSize) this.flushWhenAllowed();
      else this.schedule();
    });
  }

  /** Commits everything queued so far, now (synchronously). Callers' promises settle afterwards. */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;

    let outcomes: Outcome[];
    try {
      outcomes = this.runBatch.immediate(batch);
    } catch (error) {
      this.recover(batch, error);
      return;
    }
    this.committed(outcomes.filter((o) => o.ok).length);
    const settle = (syncError?: unknown) =>
      outcomes.forEach((outcome, i) => {
        const write = batch[i] as PendingWrite;
        if (!outcome.ok) write.reject(outcome.error);
        else if (syncError !== undefined) write.reject(syncError);
        else write.resolve(outcome.value);
      });
    if (!this.afterCommit) {
      settle();
      return;
    }
    // The next batch may commit while this one's flush runs; each batch waits for its own flush.
    this.afterCommit().then(
      () => settle(),
      (error: unknown) =>
        settle(
          new ZenError("store_unavailable", "the store could not flush a commit to disk", { cause: error }),
        ),
    );
  }

  /** Commits what is queued and refuses further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  /** A scheduled commit: asks {@link WriteBatcherOptions.mayCommit} first. */
  private flushWhenAllowed(): void {
    if (this.holding) return;
    const resume = () => {
      this.holding = false;
      this.flush();
    };
    if (this.mayCommit && !this.mayCommit(resume)) {
      this.holding = true;
      this.timer?.cancel();
      this.timer = undefined;
      return;
    }
    this.flush();
  }

  private schedule(): void {
    if (this.timer || this.holding) return;
    if (this.commitWindowMs > 0) {
      const handle = setTimeout(() => this.flushWhenAllowed(), this.commitWindowMs);
      this.timer = { cancel: () => clearTimeout(handle) };
    } else {
      const handle = setImmediate(() => this.flushWhenAllowed());
      this.timer = { cancel: () => clearImmediate(handle) };
    }
  }

  /** The batch transaction failed as a whole: nothing of it is durable. */
  private recover(batch: readonly PendingWrite[], error: unknown): void {
    if (!isConstraintError(error)) {
      for (const write of batch) write.reject(error);
      return;
    }
    for (const write of batch) {
      let value: unknown;
      try {
        value = this.runOne.immediate(write.run);
      } catch (itemError) {
        write.reject(itemError);
        continue;
      }
      this.committed(1);
      write.resolve(value);
    }
  }

  private committed(batchSize: number): void {
    try {
      this.onCommit?.(batchSize);
    } catch {
      // A metrics hook must not turn a durable commit into a failure for its callers.
    }
  }
}

function isConstraintError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT");
}
