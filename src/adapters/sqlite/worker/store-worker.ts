/**
 * Worker-thread entry of the SQLite stores (started by worker-stores.ts): opens the store file with
 * the in-thread adapters (`openSqliteStores`) and serves the calls the main thread sends, so SQLite's
 * CPU time (statements, transactions, checkpoints) is spent on this thread instead of the one that
 * parses and verifies requests. Group commit and the off-loop WAL fsync work here exactly as they do
 * in-thread: a reply leaves only after its write is committed and flushed.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Clock } from "../../../ports/clock.ts";
import { openSqliteStores, type SqliteStores } from "../stores.ts";
import {
  type CallBatch,
  type CallMessage,
  encodeError,
  type RemoteTargets,
  remoteMethods,
  type StoreWorkerData,
  type WorkerMessage,
} from "./protocol.ts";

/**
 * The main thread's injected clock, as of the last batch. A test's fake clock cannot be shared across
 * threads; its time travels with each batch instead, and every call of the batch reads it (in-thread,
 * writes read the clock when their group commit runs, which is after the caller's turn as well).
 */
class BridgedClock implements Clock {
  private current: number;
  constructor(startMs: number) {
    this.current = startMs;
  }
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

/**
 * Replies produced in one turn of this thread's loop leave together, at its end. Notices ride along
 * with the next replies instead of waking the main thread on their own: every notice is followed by
 * one (a commit's notice by the replies to its writes, an `enqueued` by the reply to its call), and
 * each wake-up of the other thread costs about as much as a small call.
 */
class Outbox {
  private messages: WorkerMessage[] = [];
  private scheduled = false;

  constructor(private readonly port: NonNullable<typeof parentPort>) {}

  reply(message: WorkerMessage & { readonly kind: "reply" }): void {
    this.messages.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  notice(message: Exclude<WorkerMessage, { readonly kind: "reply" }>): void {
    this.messages.push(message);
  }

  flush(): void {
    this.scheduled = false;
    const messages = this.messages;
    this.messages = [];
    if (messages.length === 0) return;
    try {
      this.port.postMessage(messages);
    } catch {
      // A value that cannot be cloned (none of the ports return one) must fail its own call only.
      for (const message of messages) this.postAlone(message);
    }
  }

  private postAlone(message: WorkerMessage): void {
    try {
      this.port.postMessage([message]);
    } catch (error) {
      if (message.kind === "reply") {
        this.port.postMessage([{ kind: "reply", id: message.id, ok: false, error: encodeError(error) }]);
      }
    }
  }
}

type AnyMethod = (...args: readonly unknown[]) => Promise<unknown>;

function serve(port: NonNullable<typeof parentPort>, data: StoreWorkerData): void {
  const outbox = new Outbox(port);
  const bridged =
    data.bridgedClockStartMs === undefined ? undefined : new BridgedClock(data.bridgedClockStartMs);
  let stores: SqliteStores;
  try {
    stores = openSqliteStores({
      ...data.database,
      ...(bridged && { clock: bridged }),
      ...(data.reportCommits && {
        onCommit: (batchSize: number) => outbox.notice({ kind: "committed", batchSize }),
      }),
    });
  } catch (error) {
    port.postMessage([{ kind: "open_failed", error: encodeError(error) }]);
    return;
  }
  stores.queue.onEnqueued(() => outbox.notice({ kind: "enqueued" }));
  const targets: RemoteTargets = { queue: stores.queue, keyStore: stores.keyStore, trail: stores.trail };

  const invoke = (call: CallMessage): Promise<unknown> => {
    if (call.target === "stores") {
      if (call.method === "close") return stores.close();
    } else if ((remoteMethods[call.target] as readonly string[]).includes(call.method)) {
      // Checked against the allowlist just above; the arguments are the caller's typed ones (channel).
      const target = targets[call.target] as unknown as Readonly<Record<string, AnyMethod>>;
      return (target[call.method] as AnyMethod).call(target, ...call.args);
    }
    return Promise.reject(new TypeError(`the store worker has no method ${call.target}.${call.method}`));
  };

  port.on("message", (batch: CallBatch) => {
    if (bridged && batch.now !== undefined) bridged.set(batch.now);
    for (const call of batch.calls) {
      let result: Promise<unknown>;
      try {
        result = invoke(call);
      } catch (error) {
        result = Promise.reject(error);
      }
      result.then(
        (value) => outbox.reply({ kind: "reply", id: call.id, ok: true, value }),
        (error: unknown) =>
          outbox.reply({ kind: "reply", id: call.id, ok: false, error: encodeError(error) }),
      );
    }
  });
  port.postMessage([{ kind: "ready" }]);
}

if (!parentPort) throw new Error("store-worker.ts runs in a worker thread started by worker-stores.ts");
serve(parentPort, workerData as StoreWorkerData);
