/**
 * Opens the embedded store: one SQLite file, `<dir>/zen.db`, in WAL mode, schema migrated on open.
 * The SQLite queue, key store and trail store share this handle and its single {@link WriteBatcher},
 * so their writes are group-committed together.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import Database from "better-sqlite3";
import { Checkpointer } from "./checkpointer.ts";
import { migrate } from "./schema.ts";
import { WalSync } from "./wal-sync.ts";
import { WriteBatcher } from "./write-batcher.ts";

/** File name of the store inside the data dir. */
export const databaseFileName = "zen.db";

/** How long a writer waits for another process's lock before failing, in ms (blocks the event loop). */
export const defaultBusyTimeoutMs = 5_000;

export interface OpenDatabaseOptions {
  /** Data directory (`ZEN_DATA_DIR`); created if missing. */
  readonly dir: string;
  /**
   * `full` (default): every group commit is fsynced (off the event loop, see wal-sync.ts) before
   * callers hear it is durable — survives power loss. `normal`: WAL commits are fsynced at
   * checkpoints only — survives a process crash (`kill -9`), may lose the last commits on power loss.
   */
  readonly synchronous?: "full" | "normal";
  /** Default {@link defaultBusyTimeoutMs}. */
  readonly busyTimeoutMs?: number;
  /** Group commit window in ms; default 0 (next tick). See {@link WriteBatcher}. */
  readonly commitWindowMs?: number;
  /** Writes per transaction before an immediate flush; default 256. */
  readonly maxBatchSize?: number;
  /** Observes each committed transaction's write count (e.g. `zen_queue_commit_batch_size`). */
  readonly onCommit?: (batchSize: number) => void;
  /**
   * `background` (default): WAL checkpoints run on a worker thread, never inside a commit on the
   * event loop (checkpointer.ts). `inline`: SQLite's own auto-checkpoint every 1 000 pages.
   */
  readonly checkpoints?: "background" | "inline";
  /** With background checkpoints: the WAL size (pages) at which commits wait for one to catch up. */
  readonly walLimitFrames?: number;
}

/** An open store file: the raw handle (for the adapters), its write batcher, and close. */
export class SqliteDatabase {
  readonly path: string;
  readonly handle: BetterSqlite3.Database;
  readonly batcher: WriteBatcher;

  /** The background checkpointer, when checkpoints run off the event loop. */
  readonly checkpointer: Checkpointer | undefined;
  private readonly walSync: WalSync | undefined;

  constructor(
    path: string,
    handle: BetterSqlite3.Database,
    batcher: WriteBatcher,
    walSync?: WalSync,
    checkpointer?: Checkpointer,
  ) {
    this.path = path;
    this.handle = handle;
    this.batcher = batcher;
    this.walSync = walSync;
    this.checkpointer = checkpointer;
  }

  /** Commits pending writes, waits for their flush to disk, then closes the file. Idempotent. */
  async close(): Promise<void> {
    if (!this.handle.open) return;
    this.batcher.close();
    await this.walSync?.close();
    await this.checkpointer?.close();
    this.handle.close();
  }
}

/**
 * Opens (creating and migrating as needed) `<dir>/zen.db`.
 * @throws ZenError `store_unavailable` when the file's schema is newer than this build.
 */
export function openDatabase(options: OpenDatabaseOptions): SqliteDatabase {
  mkdirSync(options.dir, { recursive: true });
  const path = join(options.dir, databaseFileName);
  const handle = new Database(path);
  const busyTimeoutMs = Math.trunc(options.busyTimeoutMs ?? defaultBusyTimeoutMs);
  const background = options.checkpoints !== "inline";
  try {
    handle.pragma(`busy_timeout = ${busyTimeoutMs}`);
    handle.pragma("journal_mode = WAL");
    // Always NORMAL on the connection: with `full`, the fsync a FULL commit would do in-line is done by
    // WalSync off the event loop after each group commit, before any caller is answered.
    handle.pragma("synchronous = NORMAL");
    migrate(handle);
    // Checkpoints are the checkpointer thread's job; this connection only commits.
    if (background) handle.pragma("wal_autocheckpoint = 0");
  } catch (error) {
    handle.close();
    throw error;
  }
  const walSync = options.synchronous === "normal" ? undefined : new WalSync(path);
  const checkpointer = background
    ? new Checkpointer({
        path,
        busyTimeoutMs,
        walLimitFrames: options.walLimitFrames,
        // Without its thread nothing would checkpoint and the WAL would grow: back to SQLite's own.
        onFailure: () => {
          if (handle.open) handle.pragma("wal_autocheckpoint = 1000");
        },
      })
    : undefined;
  const onCommit = options.onCommit;
  const batcher = new WriteBatcher({
    db: handle,
    commitWindowMs: options.commitWindowMs,
    maxBatchSize: options.maxBatchSize,
    onCommit: checkpointer
      ? (batchSize) => {
          checkpointer.committed();
          onCommit?.(batchSize);
        }
      : onCommit,
    ...(walSync && { afterCommit: () => walSync.sync() }),
    ...(checkpointer && { mayCommit: (resume: () => void) => checkpointer.mayCommit(resume) }),
  });
  return new SqliteDatabase(path, handle, batcher, walSync, checkpointer);
}
