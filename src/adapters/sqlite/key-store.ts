/** The KeyStore port on the shared SQLite file. Claims and sets are group-committed with other writes. */
import type BetterSqlite3 from "better-sqlite3";
import { type Clock, systemClock } from "../../ports/clock.ts";
import type { KeyStore } from "../../ports/key-store.ts";
import type { SqliteDatabase } from "./database.ts";

export interface SqliteKeyStoreOptions {
  /** The shared store file (see `openDatabase`). Not closed by {@link SqliteKeyStore.close}. */
  readonly db: SqliteDatabase;
  /** Default: the system clock. */
  readonly clock?: Clock;
}

interface KeyParams {
  readonly key: string;
  readonly value: string;
  readonly expiresAt: number;
  readonly now: number;
}

/** KeyStore on the shared file: a key is live while `expires_at > now`; expired rows count as absent. */
export class SqliteKeyStore implements KeyStore {
  private readonly db: SqliteDatabase;
  private readonly clock: Clock;
  private readonly claimStmt: BetterSqlite3.Statement<[KeyParams]>;
  private readonly setStmt: BetterSqlite3.Statement<[Omit<KeyParams, "now">]>;
  private readonly getStmt: BetterSqlite3.Statement<[string, number], string>;
  private readonly deleteStmt: BetterSqlite3.Statement<[string], number>;
  private readonly pruneStmt: BetterSqlite3.Statement<[number]>;

  constructor(options: SqliteKeyStoreOptions) {
    this.db = options.db;
    this.clock = options.clock ?? systemClock;
    const h = options.db.handle;
    // The WHERE on the upsert makes the claim atomic: a live row is left alone (0 changes), an
    // expired one is taken over as if absent.
    this.claimStmt = h.prepare(
      `INSERT INTO key_store (key, value, expires_at) VALUES (@key, @value, @expiresAt)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
       WHERE key_store.expires_at <= @now`,
    );
    this.setStmt = h.prepare(
      `INSERT INTO key_store (key, value, expires_at) VALUES (@key, @value, @expiresAt)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    );
    this.getStmt = h
      .prepare<[string, number], string>("SELECT value FROM key_store WHERE key = ? AND expires_at > ?")
      .pluck();
    this.deleteStmt = h
      .prepare<[string], number>("DELETE FROM key_store WHERE key = ? RETURNING expires_at")
      .pluck();
    this.pruneStmt = h.prepare("DELETE FROM key_store WHERE expires_at <= ?");
  }

  async claim(key: string, ttlMs: number, value = ""): Promise<boolean> {
    return this.db.batcher.submit(() => {
      const now = this.clock.now();
      return this.claimStmt.run({ key, value, expiresAt: now + ttlMs, now }).changes === 1;
    });
  }

  async get(key: string): Promise<string | undefined> {
    return this.getStmt.get(key, this.clock.now());
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.db.batcher.submit(() => {
      this.setStmt.run({ key, value, expiresAt: this.clock.now() + ttlMs });
    });
  }

  /** True when a live key was deleted (an expired leftover is removed too, but reports false). */
  async delete(key: string): Promise<boolean> {
    return this.db.batcher.submit(() => {
      const expiresAt = this.deleteStmt.get(key);
      return expiresAt !== undefined && expiresAt > this.clock.now();
    });
  }

  async prune(): Promise<number> {
    return this.db.batcher.submit(() => this.pruneStmt.run(this.clock.now()).changes);
  }

  /** Commits pending writes; the shared handle stays open (`SqliteDatabase.close` closes it). */
  async close(): Promise<void> {
    if (this.db.handle.open) this.db.batcher.flush();
  }
}
