import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setImmediate as nextTick } from "node:timers/promises";
import type BetterSqlite3 from "better-sqlite3";
import Database from "better-sqlite3";
import { WriteBatcher, type WriteBatcherOptions } from "./write-batcher.ts";

describe("WriteBatcher", () => {
  let dir: string;
  let db: BetterSqlite3.Database;
  let commits: number[];
  let insert: BetterSqlite3.Statement<[number]>;

  const count = (handle: BetterSqlite3.Database = db): number =>
    handle.prepare<[], number>("SELECT COUNT(*) FROM items").pluck().get() ?? 0;
  const batcher = (options: Partial<WriteBatcherOptions> = {}): WriteBatcher =>
    new WriteBatcher({ db, onCommit: (n) => commits.push(n), ...options });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "zen-batcher-"));
    db = new Database(join(dir, "test.db"));
    db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    db.exec(`
      CREATE TABLE items (n INTEGER PRIMARY KEY);
      CREATE TABLE parents (id INTEGER PRIMARY KEY);
      CREATE TABLE children (parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);
    `);
    insert = db.prepare("INSERT INTO items (n) VALUES (?)");
    commits = [];
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("commits concurrent writes in a few transactions of up to maxBatchSize", async () => {
    const b = batcher();
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => b.submit(() => insert.run(i).changes)),
    );
    assert.equal(results.length, 500);
    assert.deepEqual(commits, [256, 244]);
    assert.equal(count(), 500);
  });

  it("resolves only once the write is committed and visible to other connections", async () => {
    const b = batcher();
    const other = new Database(join(dir, "test.db"), { readonly: true });
    try {
      const done = b.submit(() => {
        assert.equal(db.inTransaction, true);
        insert.run(1);
      });
      assert.equal(count(other), 0, "nothing happens before the flush");
      await done;
      assert.equal(count(other), 1);
    } finally {
      other.close();
    }
  });

  it("rolls back and rejects only the write that throws; the batch still commits", async () => {
    const b = batcher();
    const outcomes = await Promise.allSettled([
      b.submit(() => insert.run(1)),
      b.submit(() => {
        insert.run(2);
        throw new Error("bad item");
      }),
      b.submit(() => insert.run(1)), // duplicate primary key: a constraint error in its own savepoint
      b.submit(() => insert.run(3)),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "rejected", "rejected", "fulfilled"],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /bad item/);
    assert.deepEqual(commits, [2]);
    assert.deepEqual(db.prepare("SELECT n FROM items ORDER BY n").pluck().all(), [1, 3]);
  });

  it("retries one by one when the batch fails at COMMIT, so only the culprit rejects", async () => {
    const b = batcher();
    const addParent = db.prepare("INSERT INTO parents (id) VALUES (?)");
    const addChild = db.prepare("INSERT INTO children (parent) VALUES (?)");
    addParent.run(1);
    const outcomes = await Promise.allSettled([
      b.submit(() => addChild.run(1)),
      // A deferred foreign key is only checked at COMMIT: the whole batch fails there.
      b.submit(() => addChild.run(99)),
      b.submit(() => insert.run(7)),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    assert.equal((outcomes[1] as PromiseRejectedResult).reason.code, "SQLITE_CONSTRAINT_FOREIGNKEY");
    assert.deepEqual(commits, [1, 1]);
    assert.equal(db.prepare("SELECT COUNT(*) FROM children").pluck().get(), 1);
    assert.equal(count(), 1);
  });

  it("rejects every write of a batch that cannot start, without retrying each", async () => {
    db.pragma("busy_timeout = 0");
    const b = batcher();
    const other = new Database(join(dir, "test.db"));
    try {
      other.exec("BEGIN IMMEDIATE");
      const outcomes = await Promise.allSettled([
        b.submit(() => insert.run(1)),
        b.submit(() => insert.run(2)),
      ]);
      for (const outcome of outcomes) {
        assert.equal(outcome.status, "rejected");
        assert.equal((outcome as PromiseRejectedResult).reason.code, "SQLITE_BUSY");
      }
      other.exec("ROLLBACK");
      await b.submit(() => insert.run(3));
      assert.deepEqual(commits, [1]);
    } finally {
      other.close();
    }
  });

  it("flushes at once when the batch is full", () => {
    const b = batcher({ maxBatchSize: 3 });
    for (let i = 0; i < 3; i++) void b.submit(() => insert.run(i));
    assert.deepEqual(commits, [3], "committed synchronously, before any tick");
  });

  it("gathers writes from later ticks within the commit window", async () => {
    const windowed = batcher({ commitWindowMs: 50 });
    const first = windowed.submit(() => insert.run(1));
    await nextTick();
    const second = windowed.submit(() => insert.run(2));
    await Promise.all([first, second]);
    assert.deepEqual(commits, [2]);

    commits = [];
    const immediate = batcher();
    const third = immediate.submit(() => insert.run(3));
    await nextTick();
    const fourth = immediate.submit(() => insert.run(4));
    await Promise.all([third, fourth]);
    assert.deepEqual(commits, [1, 1]);
  });

  it("commits pending writes on close and refuses writes afterwards", async () => {
    const b = batcher({ commitWindowMs: 60_000 });
    const pending = b.submit(() => insert.run(1));
    b.close();
    await pending;
    assert.equal(count(), 1);
    await assert.rejects(
      b.submit(() => insert.run(2)),
      { code: "store_unavailable" },
    );
  });

  it("survives an onCommit hook that throws", async () => {
    const b = new WriteBatcher({
      db,
      onCommit: () => {
        throw new Error("metrics bug");
      },
    });
    assert.equal(await b.submit(() => insert.run(1).changes), 1);
    assert.equal(count(), 1, "committed once, not retried");
  });

  it("answers callers only after afterCommit (the flush to disk) resolves", async () => {
    let release!: () => void;
    const flushed = new Promise<void>((resolve) => {
      release = resolve;
    });
    const b = batcher({ afterCommit: () => flushed });
    let answered = false;
    const write = b
      .submit(() => insert.run(1).changes)
      .then((n) => {
        answered = true;
        return n;
      });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(count(), 1, "committed");
    assert.equal(answered, false, "not answered before the flush");
    release();
    assert.equal(await write, 1);
  });

  it("rejects a batch's callers when its flush to disk fails", async () => {
    const b = batcher({ afterCommit: () => Promise.reject(new Error("EIO")) });
    await assert.rejects(
      b.submit(() => insert.run(1).changes),
      { code: "store_unavailable" },
    );
  });
  it("holds scheduled commits while mayCommit says no, and commits them on resume", async () => {
    let allow = false;
    let resume: (() => void) | undefined;
    const b = batcher({
      mayCommit: (r) => {
        resume = r;
        return allow;
      },
    });
    let settled = 0;
    const writes = [1, 2, 3].map((n) => b.submit(() => insert.run(n)).then(() => settled++));
    for (let i = 0; i < 5; i++) await nextTick();
    assert.equal(count(), 0, "nothing committed while held");
    assert.equal(settled, 0);
    const later = b.submit(() => insert.run(4));
    await nextTick();
    assert.equal(count(), 0, "a write submitted while held waits too");
    allow = true;
    assert.ok(resume);
    resume();
    await Promise.all([...writes, later]);
    assert.equal(count(), 4);
    assert.deepEqual(commits, [4], "the held writes commit together");
  });

  it("an explicit flush commits even while held", async () => {
    const b = batcher({ mayCommit: () => false });
    const write = b.submit(() => insert.run(1));
    await nextTick();
    assert.equal(count(), 0);
    b.flush();
    await write;
    assert.equal(count(), 1);
  });
});
