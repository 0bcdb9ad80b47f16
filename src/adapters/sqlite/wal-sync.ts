/**
 * Makes group commits durable without blocking the event loop. SQLite runs with
 * `synchronous=NORMAL` (a commit writes the WAL but does not fsync it), and after each batch commit
 * the batcher awaits `sync()`: an `fdatasync` of the WAL file on libuv's thread pool. Only then are the
 * batch's callers told their writes are durable. That is the guarantee of `synchronous=FULL` (the WAL
 * reaches the disk before the acknowledgement: survives power loss, not only `kill -9`), while the
 * main thread goes on parsing and verifying requests during the disk flush instead of waiting in it.
 *
 * fsync works on the file, not the descriptor: syncing our own read-only descriptor flushes what
 * SQLite's connection wrote. The WAL file exists from the first write transaction until the last
 * connection closes (SQLite truncates it on checkpoints, it does not replace it).
 */
import { type FileHandle, open } from "node:fs/promises";

export class WalSync {
  private readonly walPath: string;
  private handle: Promise<FileHandle> | undefined;
  private inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(databasePath: string) {
    this.walPath = `${databasePath}-wal`;
  }

  /** Flushes everything committed so far to the disk. Call after a commit. */
  async sync(): Promise<void> {
    this.inFlight++;
    try {
      this.handle ??= open(this.walPath, "r");
      await (await this.handle).datasync();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.idle?.();
    }
  }

  /** Waits for syncs in flight, then closes the descriptor. */
  async close(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    const handle = await this.handle?.catch(() => undefined);
    this.handle = undefined;
    await handle?.close();
  }
}
