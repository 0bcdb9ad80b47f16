/**
 * WAL checkpoints off the request thread. SQLite's default (`wal_autocheckpoint=1000`) runs a
 * checkpoint inside whichever commit pushes the WAL past 1 000 pages: it copies every page back into
 * the database file and fsyncs it, on the event loop, while every caller of that batch (and every
 * request behind it) waits. Here the writer connection has auto-checkpoints off, and a second
 * connection on a worker thread runs `PRAGMA wal_checkpoint(PASSIVE)` after group commits, at most
 * every {@link defaultCheckpointIntervalMs} ms (each checkpoint costs two fsyncs). PASSIVE never blocks
 * the writer. Measured (docs/benchmarks.md, "Round 2"): ~10 µs less event-loop time per event.
 *
 * The WAL is bounded: SQLite rewinds it to its start when a writer begins a transaction and finds
 * every frame already copied back (backfilled). Under sustained writes the checkpointer is always a
 * little behind, so that rarely happens on its own: once the WAL passes half of
 * {@link defaultWalLimitFrames} frames checkpoints run back to back (staying close behind), and at
 * the limit {@link Checkpointer.mayCommit} says no: the write batcher holds the next commit (the event
 * loop keeps running; only those writers wait) until a checkpoint reports the WAL fully backfilled,
 * and the commit after it rewinds the WAL. The file stays near the limit (64 MiB at 4 KiB pages).
 *
 * Durability is untouched: commits are made durable by the WAL fsync (wal-sync.ts) before anyone is
 * answered; checkpoints only move committed pages into the main file, with SQLite's own ordering
 * (WAL synced before copying, database synced before the copy is recorded).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import { endianness } from "node:os";
import { Worker } from "node:worker_threads";

/** Frames (pages) the WAL may grow to without being rewound before commits wait for the checkpointer. */
export const defaultWalLimitFrames = 16_000;

/** Checkpoints start at most this often under load (each one fsyncs the WAL and the database file). */
export const defaultCheckpointIntervalMs = 100;

export interface CheckpointerOptions {
  /** The database file. */
  readonly path: string;
  /** Default {@link defaultWalLimitFrames}. */
  readonly walLimitFrames?: number;
  /** Least time between two checkpoints, ms (each costs two fsyncs). Default {@link defaultCheckpointIntervalMs}. */
  readonly minIntervalMs?: number;
  /** busy_timeout of the checkpointer's connection, ms. */
  readonly busyTimeoutMs: number;
  /**
   * Called once if the thread dies (it could not open the file, or crashed): the owner must then
   * checkpoint some other way (openDatabase turns SQLite's auto-checkpoint back on).
   */
  readonly onFailure?: (error: Error) => void;
}

type Reply =
  | { readonly ok: true; readonly log: number; readonly checkpointed: number }
  | { readonly ok: false };

/** The worker's code: plain CommonJS, so the thread starts without a TypeScript loader. */
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("busy_timeout = " + workerData.busyTimeoutMs);
// NORMAL: a checkpoint fsyncs the WAL before copying and the database file after (SQLite's order).
db.pragma("synchronous = NORMAL");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
parentPort.on("message", (message) => {
  if (message === "close") {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const row = checkpoint.get();
    parentPort.postMessage({ ok: true, log: row.log, checkpointed: row.checkpointed });
  } catch {
    // Busy or I/O trouble: nothing was lost; the next commit asks again.
    parentPort.postMessage({ ok: false });
  }
});
`;

/**
 * The WAL's progress, read from the WAL-index header in `<db>-shm` (a documented, stable format:
 * https://www.sqlite.org/walformat.html, "The WAL-Index Header"; native byte order): `mxFrame`, the
 * frames in the WAL since it last rewound (offset 16), and `nBackfill`, how many of them a checkpoint
 * has copied back (offset 96). One 100-byte `pread` on the main thread: exact, without asking the
 * checkpointer. A torn read (a writer updating the header meanwhile) only delays or hastens one hold.
 */
class WalIndex {
  private readonly path: string;
  private fd: number | undefined;
  private readonly header = Buffer.alloc(100);
  private readonly littleEndian = endianness() === "LE";

  constructor(databasePath: string) {
    this.path = `${databasePath}-shm`;
  }

  /** `{ frames, backfilled }`; zeros when the index cannot be read (no hold then). */
  read(): { frames: number; backfilled: number } {
    try {
      this.fd ??= openSync(this.path, "r");
      if (readSync(this.fd, this.header, 0, 100, 0) < 100) return { frames: 0, backfilled: 0 };
    } catch {
      return { frames: 0, backfilled: 0 };
    }
    const at = (offset: number) =>
      this.littleEndian ? this.header.readUInt32LE(offset) : this.header.readUInt32BE(offset);
    return { frames: at(16), backfilled: at(96) };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export class Checkpointer {
  private readonly worker: Worker;
  private readonly wal: WalIndex;
  private readonly limit: number;
  private readonly minIntervalMs: number;
  private lastStart = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private wanted = false;
  private closed = false;
  private readonly waiters: (() => void)[] = [];
  private exited: Promise<void>;
  /** Completed and failed checkpoints, commits held, largest WAL seen (frames), for tests and benchmarks. */
  readonly stats = { checkpoints: 0, failures: 0, held: 0, maxLogFrames: 0 };

  constructor(options: CheckpointerOptions) {
    this.limit = options.walLimitFrames ?? defaultWalLimitFrames;
    this.minIntervalMs = options.minIntervalMs ?? defaultCheckpointIntervalMs;
    this.wal = new WalIndex(options.path);
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(workerSource, {
      eval: true,
      name: "zen-sqlite-checkpointer",
      workerData: { driver, path: options.path, busyTimeoutMs: options.busyTimeoutMs },
    });
    // Never keeps the process alive; a checkpoint cut short by exit is harmless (SQLite is crash-safe).
    this.worker.unref();
    this.worker.on("message", (reply: Reply) => this.reported(reply));
    this.exited = new Promise((resolve) => this.worker.once("exit", () => resolve()));
    this.worker.on("error", (error) => {
      // The thread died (e.g. could not open the file): stop holding commits on its account.
      if (this.closed) return;
      this.closed = true;
      this.release();
      options.onFailure?.(error);
    });
  }

  /** Call after each commit: asks for a checkpoint (coalesced with one in flight or scheduled). */
  committed(): void {
    if (this.closed) return;
    if (this.inFlight || this.timer) {
      this.wanted = true;
      return;
    }
    this.requestSoon();
  }

  /**
   * Whether a commit may start now. No when the WAL has reached the limit without rewinding and is
   * not fully backfilled; then `resume` is called once it is (or the checkpointer failed or stopped).
   * Fully backfilled, the commit itself rewinds the WAL.
   */
  mayCommit(resume: () => void): boolean {
    if (this.closed) return true;
    const { frames, backfilled } = this.wal.read();
    if (frames < this.limit || backfilled >= frames) return true;
    this.stats.held++;
    this.waiters.push(resume);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.inFlight) this.request();
    return false;
  }

  /** Stops the thread (after its current checkpoint); pending commit holds are released. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.release();
      this.wal.close();
      this.worker.postMessage("close");
    }
    // Held open until the thread has exited (closed its connection), so the caller's close completes.
    this.worker.ref();
    await this.exited;
  }

  /**
   * Starts a checkpoint now, or after the rest of the minimum interval. Past half the WAL limit there
   * is no interval: the checkpointer keeps close behind, so a hold at the limit waits for little.
   */
  private requestSoon(): void {
    const interval = this.wal.read().frames * 2 >= this.limit ? 0 : this.minIntervalMs;
    const wait = this.lastStart + interval - performance.now();
    if (wait <= 0) {
      this.request();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed && !this.inFlight) this.request();
    }, wait);
    this.timer.unref();
  }

  private request(): void {
    this.lastStart = performance.now();
    this.inFlight = true;
    this.wanted = false;
    this.worker.postMessage("checkpoint");
  }

  private reported(reply: Reply): void {
    this.inFlight = false;
    if (reply.ok) {
      this.stats.checkpoints++;
      this.stats.maxLogFrames = Math.max(this.stats.maxLogFrames, reply.log);
    } else {
      this.stats.failures++;
    }
    if (this.closed) return;
    if (this.waiters.length > 0) {
      const { frames, backfilled } = this.wal.read();
      // Caught up (the held commit will rewind the WAL), or failing: do not hold writers on it.
      if (!reply.ok || backfilled >= frames) this.release();
      else this.request();
      return;
    }
    if (this.wanted) this.requestSoon();
  }

  private release(): void {
    for (const resume of this.waiters.splice(0)) resume();
  }
}
