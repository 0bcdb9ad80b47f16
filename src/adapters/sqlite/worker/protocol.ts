/**
 * The messages between the main thread and the SQLite store worker (store-worker.ts), and how errors
 * cross the thread boundary. Both directions send arrays: everything one side produced in one turn of
 * its event loop travels in one `postMessage`, so the per-message cost is shared by many calls.
 *
 *   main → worker: {@link CallBatch}  `{ now?, calls: [{ id, target, method, args }] }`
 *   worker → main: {@link WorkerMessage}[]  replies `{ id, ok, value | error }` and notices
 */
import { HttpError, type HttpErrorCode, httpErrorStatus, ZenError } from "../../../domain/errors.ts";
import type { OpenDatabaseOptions } from "../database.ts";
import type { SqliteKeyStore } from "../key-store.ts";
import type { SqliteQueue } from "../queue.ts";
import type { SqliteTrailStore } from "../trail-store.ts";

/** The stores the worker serves (the in-thread SQLite adapters), by the name calls address them with. */
export interface RemoteTargets {
  readonly queue: SqliteQueue;
  readonly keyStore: SqliteKeyStore;
  readonly trail: SqliteTrailStore;
}

export type TargetName = keyof RemoteTargets;

/** The promise-returning methods of a target: the ones that can be called across threads. */
export type MethodName<T extends TargetName> = {
  [K in keyof RemoteTargets[T]]: RemoteTargets[T][K] extends (...args: never[]) => Promise<unknown>
    ? K
    : never;
}[keyof RemoteTargets[T]];

type Method<T extends TargetName, M extends MethodName<T>> = Extract<
  RemoteTargets[T][M],
  (...args: never[]) => Promise<unknown>
>;
export type MethodArgs<T extends TargetName, M extends MethodName<T>> = Parameters<Method<T, M>>;
export type MethodResult<T extends TargetName, M extends MethodName<T>> = Awaited<ReturnType<Method<T, M>>>;

/**
 * What the worker will run, per target; anything else is refused. Listed rather than looked up on
 * the object so a message can never reach a constructor, a private helper or a prototype method.
 */
export const remoteMethods: { readonly [T in TargetName]: readonly MethodName<T>[] } = {
  queue: [
    "enqueue",
    "lease",
    "complete",
    "reschedule",
    "release",
    "deadLetter",
    "nextWakeAt",
    "stats",
    "getEvent",
    "jobsOfEvent",
    "listDlq",
    "getDlq",
    "replayDlq",
    "purgeDlq",
    "prune",
    "ping",
    "close",
  ],
  keyStore: ["claim", "get", "set", "delete", "prune", "close"],
  trail: ["append", "list", "prune", "close"],
};

/** One call. `target: "stores"` with method `close` closes the whole store file (see stores.ts). */
export interface CallMessage {
  readonly id: number;
  readonly target: TargetName | "stores";
  readonly method: string;
  readonly args: readonly unknown[];
}

/**
 * The calls issued in one turn of the main thread's event loop. `now` is the main thread's clock when
 * the batch left, present only when the stores run on an injected (test) clock: the worker then reads
 * that time instead of its own, see store-worker.ts.
 */
export interface CallBatch {
  readonly now?: number;
  readonly calls: readonly CallMessage[];
}

/** An error as plain data; {@link decodeError} rebuilds the class callers test for. */
export interface EncodedError {
  readonly name: string;
  readonly message: string;
  /** `ZenError.code`, or a Node/SQLite error code such as `SQLITE_BUSY`. */
  readonly code?: string;
  /** True when the original was a {@link ZenError} (the code is one of ours). */
  readonly zen?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
  readonly stack?: string;
}

export type WorkerMessage =
  | { readonly kind: "reply"; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: "reply"; readonly id: number; readonly ok: false; readonly error: EncodedError }
  /** A commit added ready jobs (enqueue, release, replay): the queue's `onEnqueued` listeners run. */
  | { readonly kind: "enqueued" }
  /** A group commit made `batchSize` writes durable (the `onCommit` metrics hook). */
  | { readonly kind: "committed"; readonly batchSize: number }
  /** The store file is open and migrated: calls may come. */
  | { readonly kind: "ready" }
  /** Opening the store file failed; the worker waits to be terminated. */
  | { readonly kind: "open_failed"; readonly error: EncodedError };

/** What the worker is started with (`workerData`): structured-cloneable, so no functions. */
export interface StoreWorkerData {
  readonly database: Omit<OpenDatabaseOptions, "onCommit">;
  /** Send `committed` notices (the main side has an `onCommit` hook). */
  readonly reportCommits: boolean;
  /** Present when the main side injected a clock: its time at start; later times come with each batch. */
  readonly bridgedClockStartMs?: number;
}

/** Flattens `error` into data that survives `postMessage` with its class, code and status intact. */
export function encodeError(error: unknown): EncodedError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === "string" && { code }),
    ...(error instanceof ZenError && { zen: true }),
    ...(error instanceof HttpError && { headers: { ...error.headers } }),
    ...(error.stack !== undefined && { stack: error.stack }),
  };
}

const nativeErrors: Readonly<Record<string, new (message: string) => Error>> = {
  RangeError,
  TypeError,
  SyntaxError,
};

/**
 * Rebuilds an error encoded by {@link encodeError}: `HttpError` (with its status), `ZenError`, the
 * built-in classes; anything else as a plain `Error` keeping its name and code. The stack is the
 * worker's, which says where the store failed.
 */
export function decodeError(encoded: EncodedError): Error {
  const error = rebuild(encoded);
  if (encoded.stack !== undefined) error.stack = encoded.stack;
  return error;
}

function rebuild(encoded: EncodedError): Error {
  const { name, message, code } = encoded;
  if (encoded.zen && code !== undefined) {
    if (name === "HttpError" && isHttpErrorCode(code)) {
      return new HttpError(code, message, { headers: { ...encoded.headers } });
    }
    return new ZenError(code, message);
  }
  const Native = nativeErrors[name];
  if (Native) return new Native(message);
  const error = new Error(message);
  error.name = name;
  if (code !== undefined) Object.assign(error, { code });
  return error;
}

function isHttpErrorCode(code: string): code is HttpErrorCode {
  return Object.hasOwn(httpErrorStatus, code);
}
