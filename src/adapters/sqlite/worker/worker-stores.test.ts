/**
 * What the worker adapter adds to the SQLite stores: failures of the thread boundary (a crashed
 * worker, a closed one, an argument that cannot cross), errors keeping their class, the commit hook
 * and the clock bridge. The port semantics are covered by test/conformance/sqlite-worker.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { makeSubmission } from "../../../../test/conformance/fixtures.ts";
import { HttpError, ZenError } from "../../../domain/errors.ts";
import { FakeClock } from "../../../ports/clock.ts";
import type { Submission } from "../../../ports/queue.ts";
import { databaseFileName } from "../database.ts";
import { openSqliteStores } from "../stores.ts";
import { RemoteQueue } from "./remote-queue.ts";
import { StoreChannel } from "./store-channel.ts";
import {
  openSqliteWorkerStores,
  type SqliteWorkerStores,
  type SqliteWorkerStoresOptions,
} from "./worker-stores.ts";

/**
 * A stand-in store worker: says it is ready, then exits (as a crash would) on the first batch of
 * calls, without answering it.
 */
const crashingWorkerSource = `
  const { parentPort } = require("node:worker_threads");
  parentPort.postMessage([{ kind: "ready" }]);
  parentPort.on("message", () => process.exit(3));
`;

describe("SQLite stores on a worker thread", () => {
  let dir: string;
  let open: SqliteWorkerStores[];

  const openStores = async (options: Omit<SqliteWorkerStoresOptions, "dir"> = {}) => {
    const stores = await openSqliteWorkerStores({ dir, ...options });
    open.push(stores);
    return stores;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "zen-sqlite-worker-"));
    open = [];
  });
  afterEach(async () => {
    for (const stores of open) await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("rejects waiting and later calls with store_unavailable and fails ping once the worker crashed", async () => {
    const crashes: ZenError[] = [];
    const channel = new StoreChannel(new Worker(crashingWorkerSource, { eval: true }), {
      onCrash: (error) => crashes.push(error),
    });
    await channel.ready;
    const queue = new RemoteQueue(channel);
    assert.equal(channel.alive, true);

    await assert.rejects(queue.stats(), { name: "ZenError", code: "store_unavailable" });
    assert.equal(channel.alive, false);
    assert.equal(await queue.ping(), false);
    await assert.rejects(queue.enqueue(makeSubmission({ eventId: "e1" }, Date.now())), {
      code: "store_unavailable",
    });
    await channel.close();
    assert.deepEqual(
      crashes.map((e) => [e.code, e.message]),
      [["store_unavailable", "the SQLite store worker exited (code 3)"]],
    );
  });

  it("commits pending writes on close, then refuses calls with store_unavailable", async () => {
    const stores = await openStores();
    const enqueued = stores.queue.enqueue(makeSubmission({ eventId: "e1" }, Date.now()));
    await stores.close();
    assert.equal((await enqueued).status, "enqueued");
    await assert.rejects(stores.keyStore.get("k"), { code: "store_unavailable" });
    assert.equal(await stores.queue.ping(), false);
    await stores.close();

    const reopened = openSqliteStores({ dir });
    try {
      assert.equal((await reopened.queue.stats()).ready, 1);
    } finally {
      await reopened.close();
    }
  });

  it("rebuilds the store's errors with their class, code and status", async () => {
    const stores = await openStores();
    const cursorError = await stores.queue.listDlq({}, { limit: 5, cursor: "nope" }).catch((e: unknown) => e);
    assert.ok(cursorError instanceof HttpError);
    assert.deepEqual([cursorError.code, cursorError.status], ["invalid_request", 400]);
    await assert.rejects(stores.queue.lease({ limit: 1, leaseMs: 0, maxLeases: 1 }), RangeError);
  });

  it("fails only the call whose argument cannot cross to the worker", async () => {
    const stores = await openStores();
    const bad = { ...makeSubmission({ eventId: "bad" }, Date.now()), hook: () => 1 } as Submission;
    const results = await Promise.allSettled([
      stores.queue.enqueue(makeSubmission({ eventId: "good" }, Date.now())),
      stores.queue.enqueue(bad),
    ]);
    assert.equal(results[0].status, "fulfilled");
    assert.equal(results[1].status, "rejected");
    assert.equal((await stores.queue.stats()).ready, 1);
  });

  it("reports the file's open failure, e.g. a schema newer than this build", async () => {
    const handle = new Database(join(dir, databaseFileName));
    handle.pragma("user_version = 999");
    handle.close();
    const failure = await openSqliteWorkerStores({ dir }).catch((e: unknown) => e);
    assert.ok(failure instanceof ZenError);
    assert.equal(failure.code, "store_unavailable");
    assert.match(failure.message, /newer than this build/);
  });

  it("feeds the commit hook and the enqueued listeners before the call resolves", async () => {
    const commits: number[] = [];
    const stores = await openStores({ onCommit: (n) => commits.push(n) });
    let wakes = 0;
    stores.queue.onEnqueued(() => wakes++);
    await Promise.all(
      ["e1", "e2", "e3"].map((eventId) => stores.queue.enqueue(makeSubmission({ eventId }, Date.now()))),
    );
    assert.deepEqual([commits, wakes], [[3], 3]);
  });

  it("reads an injected clock's time as of each batch of calls", async () => {
    const clock = new FakeClock();
    const stores = await openStores({ clock });
    assert.equal(await stores.keyStore.claim("k", 1_000), true);
    clock.advance(999);
    assert.equal(await stores.keyStore.get("k"), "");
    clock.advance(1);
    assert.equal(await stores.keyStore.get("k"), undefined);
    assert.equal(await stores.keyStore.claim("k", 1_000), true);
  });
});
