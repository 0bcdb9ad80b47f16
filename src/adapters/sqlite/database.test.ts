import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import Database from "better-sqlite3";
import { Checkpointer } from "./checkpointer.ts";
import { databaseFileName, openDatabase } from "./database.ts";
import { schemaVersion } from "./schema.ts";

describe("openDatabase", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "zen-db-"));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("creates the data dir and <dir>/zen.db in WAL mode with the current schema", async () => {
    const dir = join(root, "nested", "data");
    const db = openDatabase({ dir });
    try {
      assert.equal(db.path, join(dir, databaseFileName));
      assert.ok(existsSync(db.path));
      assert.equal(db.handle.pragma("journal_mode", { simple: true }), "wal");
      // `full` is kept by fsyncing the WAL after each group commit (wal-sync.ts), off the event loop.
      assert.equal(db.handle.pragma("synchronous", { simple: true }), 1, "NORMAL on the connection");
      assert.equal(db.handle.pragma("busy_timeout", { simple: true }), 5_000);
      assert.equal(db.handle.pragma("user_version", { simple: true }), schemaVersion);
      const tables = db.handle
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .pluck()
        .all();
      assert.deepEqual(tables, ["dlq", "events", "jobs", "key_store", "trail"]);
    } finally {
      await db.close();
    }
  });

  it("honours synchronous=normal and a busy timeout", async () => {
    const db = openDatabase({ dir: root, synchronous: "normal", busyTimeoutMs: 250 });
    try {
      assert.equal(db.handle.pragma("synchronous", { simple: true }), 1);
      assert.equal(db.handle.pragma("busy_timeout", { simple: true }), 250);
    } finally {
      await db.close();
    }
  });

  it("reopens an existing file without migrating twice, and closes idempotently", async () => {
    const first = openDatabase({ dir: root });
    first.handle.prepare("INSERT INTO key_store (key, value, expires_at) VALUES ('k', 'v', 1)").run();
    await first.close();
    await first.close();
    const second = openDatabase({ dir: root });
    try {
      assert.equal(second.handle.prepare("SELECT value FROM key_store").pluck().get(), "v");
    } finally {
      await second.close();
    }
  });

  it("refuses a file written by a newer schema", async () => {
    await openDatabase({ dir: root }).close();
    const raw = new Database(join(root, databaseFileName));
    raw.pragma(`user_version = ${schemaVersion + 1}`);
    raw.close();
    assert.throws(() => openDatabase({ dir: root }), { code: "store_unavailable" });
  });
  it("checkpoints on a worker thread and keeps the WAL bounded under sustained writes", async () => {
    const limit = 200;
    const db = openDatabase({ dir: root, walLimitFrames: limit });
    const insert = db.handle.prepare<[string, string]>(
      "INSERT INTO key_store (key, value, expires_at) VALUES (?, ?, 0)",
    );
    const value = "v".repeat(2_000);
    const waves = 200;
    try {
      assert.equal(db.handle.pragma("wal_autocheckpoint", { simple: true }), 0, "no checkpoint in a commit");
      assert.ok(db.checkpointer);
      // 200 waves of 32 concurrent ~2 KB writes: ~3 500 WAL pages, far past the limit if never rewound.
      for (let w = 0; w < waves; w++) {
        await Promise.all(
          Array.from({ length: 32 }, (_, i) => db.batcher.submit(() => insert.run(`k${w}:${i}`, value))),
        );
      }
      const pageSize = Number(db.handle.pragma("page_size", { simple: true }));
      const walBytes = statSync(`${db.path}-wal`).size;
      assert.ok(db.checkpointer.stats.checkpoints > 0, "the checkpointer ran");
      assert.ok(
        walBytes < 3 * limit * pageSize,
        `WAL ${walBytes} bytes, limit ${limit} pages of ${pageSize}: the WAL was rewound`,
      );
      assert.equal(db.handle.prepare("SELECT COUNT(*) FROM key_store").pluck().get(), waves * 32);
    } finally {
      await db.close();
    }
    // The checkpointer's connection closed first, so the last close checkpointed and removed the WAL.
    assert.equal(existsSync(join(root, `${databaseFileName}-wal`)), false);
    const reopened = new Database(join(root, databaseFileName), { readonly: true });
    try {
      assert.equal(reopened.prepare("SELECT COUNT(*) FROM key_store").pluck().get(), waves * 32);
    } finally {
      reopened.close();
    }
  });

  it("with inline checkpoints leaves SQLite's auto-checkpoint on and starts no thread", async () => {
    const db = openDatabase({ dir: root, checkpoints: "inline" });
    try {
      assert.equal(db.handle.pragma("wal_autocheckpoint", { simple: true }), 1000);
      assert.equal(db.checkpointer, undefined);
    } finally {
      await db.close();
    }
  });
  it("a checkpointer whose thread cannot open the file reports it (openDatabase: inline checkpoints)", async () => {
    let checkpointer: Checkpointer | undefined;
    const failed = new Promise<Error>((resolve) => {
      checkpointer = new Checkpointer({
        path: join(root, "missing-dir", "zen.db"),
        busyTimeoutMs: 100,
        onFailure: resolve,
      });
      checkpointer.committed();
    });
    // The thread is unref'd (it never keeps a process alive): keep this test's loop alive meanwhile.
    const keepAlive = setInterval(() => {}, 1_000);
    try {
      assert.match((await failed).message, /unable to open|directory does not exist|SQLITE_CANTOPEN/i);
      await checkpointer?.close();
    } finally {
      clearInterval(keepAlive);
    }
  });
});
