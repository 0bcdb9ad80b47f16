/**
 * Schema migrations on real files: a store written by an older build opens under the current schema
 * with every record, dedupe window, job, DLQ entry and trail entry intact.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import Database from "better-sqlite3";
import { makeEvent, makeSubmission } from "../../../test/conformance/fixtures.ts";
import { intakeDedupeKey } from "../../domain/idempotency.ts";
import { FakeClock } from "../../ports/clock.ts";
import type { TrailEntry } from "../../ports/trail.ts";
import { databaseFileName } from "./database.ts";
import { migrate, schemaVersion } from "./schema.ts";
import { openSqliteStores } from "./stores.ts";

const hourMs = 3_600_000;

describe("schema migrations", () => {
  let dir: string;
  let clock: FakeClock;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "zen-schema-"));
    mkdirSync(dir, { recursive: true });
    clock = new FakeClock();
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes rows as schema v1's adapters did: dedupe_keys by sha256, trail by (tenant, event_id). */
  function writeVersion1(): { dlqId: number; trail: Record<string, TrailEntry[]> } {
    const raw = new Database(join(dir, databaseFileName));
    raw.pragma("journal_mode = WAL");
    migrate(raw, 1);
    assert.equal(raw.pragma("user_version", { simple: true }), 1);
    const now = clock.now();
    const addEvent = (eventId: string, keepUntil: number): number => {
      const event = makeEvent({ eventId }, now - hourMs);
      raw
        .prepare("INSERT INTO dedupe_keys (key, expires_at) VALUES (?, ?)")
        .run(intakeDedupeKey("acme", "gh", eventId), keepUntil);
      return Number(
        raw
          .prepare(
            "INSERT INTO events (tenant, source, event_id, body, created_at, keep_until) VALUES ('acme', 'gh', ?, ?, ?, ?)",
          )
          .run(eventId, JSON.stringify(event), now - hourMs, keepUntil).lastInsertRowid,
      );
    };
    const live = addEvent("live", now + hourMs);
    addEvent("expired", now - 1);
    const dead = addEvent("dead", now - 1);
    raw
      .prepare(
        `INSERT INTO jobs (event_row, destination, idempotency_key, state, run_at, due_at, enqueued_at)
         VALUES (?, 'hook', 'idem-live', 'ready', ?, ?, ?)`,
      )
      .run(live, now - hourMs, now - hourMs, now - hourMs);
    const dlqId = Number(
      raw
        .prepare(
          `INSERT INTO dlq (event_row, tenant, source, destination, event_id, idempotency_key, reason, attempts,
             last_error, enqueued_at, failed_at)
           VALUES (?, 'acme', 'gh', 'hook', 'dead', 'idem-dead', 'not_found', 1, 'HTTP 404', ?, ?)`,
        )
        .run(dead, now - hourMs, now - 10).lastInsertRowid,
    );
    raw
      .prepare("INSERT INTO key_store (key, value, expires_at) VALUES ('nonce:x', '1', ?)")
      .run(now + hourMs);

    const trail: Record<string, TrailEntry[]> = {
      live: [
        { tenant: "acme", eventId: "live", at: now - hourMs, stage: "received", detail: { source: "gh" } },
        {
          tenant: "acme",
          eventId: "live",
          at: now - hourMs,
          stage: "routed",
          detail: { routes: ["0"], destinations: ["hook"] },
        },
      ],
      // An event whose row v1 had already pruned: its trail must survive the migration.
      gone: [{ tenant: "acme", eventId: "gone", at: now - 2 * hourMs, stage: "received" }],
      dead: [
        {
          tenant: "acme",
          eventId: "dead",
          at: now - 10,
          stage: "dead_lettered",
          destination: "hook",
          attempt: 1,
          detail: { reason: "not_found" },
        },
      ],
    };
    const insertTrail = raw.prepare(
      "INSERT INTO trail (tenant, event_id, at, stage, destination, attempt, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    for (const entry of Object.values(trail).flat()) {
      insertTrail.run(
        entry.tenant,
        entry.eventId,
        entry.at,
        entry.stage,
        entry.destination ?? null,
        entry.attempt ?? null,
        entry.detail === undefined ? null : JSON.stringify(entry.detail),
      );
    }
    raw.close();
    return { dlqId, trail };
  }

  it("migrates a version 1 store with its dedupe windows, jobs, DLQ, keys and trail", async () => {
    const v1 = writeVersion1();
    const stores = openSqliteStores({ dir, clock });
    try {
      assert.equal(stores.database.handle.pragma("user_version", { simple: true }), schemaVersion);
      const tables = stores.database.handle
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .pluck()
        .all();
      assert.deepEqual(tables, ["dlq", "events", "jobs", "key_store", "trail"]);

      // Dedupe windows carry over: a live key still answers duplicate, an expired one is absent.
      assert.deepEqual(await stores.queue.enqueue(makeSubmission({ eventId: "live" }, clock.now())), {
        status: "duplicate",
      });
      const again = await stores.queue.enqueue(makeSubmission({ eventId: "expired" }, clock.now()));
      assert.equal(again.status, "enqueued");

      assert.equal((await stores.queue.getEvent("acme", "live"))?.id, "live");
      assert.equal((await stores.queue.getDlq(String(v1.dlqId)))?.event?.id, "dead");
      for (const [eventId, entries] of Object.entries(v1.trail)) {
        assert.deepEqual(await stores.trail.list("acme", eventId), entries, `trail of ${eventId}`);
      }
      assert.equal(await stores.keyStore.get("nonce:x"), "1");

      const leased = await stores.queue.lease({ limit: 10, leaseMs: 1_000, maxLeases: 3 });
      assert.deepEqual(leased.jobs.map((j) => [j.eventId, j.event.id]).sort(), [
        ["expired", "expired"],
        ["live", "live"],
      ]);
      assert.equal(leased.jobs.find((j) => j.eventId === "live")?.idempotencyKey, "idem-live");
      // New trail entries join the migrated ones of the same event.
      const delivered: TrailEntry = { tenant: "acme", eventId: "live", at: clock.now(), stage: "delivered" };
      await stores.trail.append([delivered]);
      assert.deepEqual(await stores.trail.list("acme", "live"), [...(v1.trail.live ?? []), delivered]);
    } finally {
      await stores.close();
    }
  });

  it("prunes migrated rows: closed windows once, bodies when unreferenced, identities with their trail", async () => {
    const v1 = writeVersion1();
    const stores = openSqliteStores({ dir, clock });
    try {
      // "expired" and "dead" had closed windows; "dead" is still held by its DLQ entry.
      assert.deepEqual(await stores.queue.prune({ dlqRetentionMs: 24 * hourMs }), {
        dedupeKeys: 2,
        dlq: 0,
        events: 1,
      });
      assert.equal(await stores.queue.getEvent("acme", "expired"), undefined);
      assert.equal((await stores.queue.getEvent("acme", "dead"))?.id, "dead");
      assert.deepEqual(await stores.queue.prune({ dlqRetentionMs: 24 * hourMs }), {
        dedupeKeys: 0,
        dlq: 0,
        events: 0,
      });
      // The trail outlives the event body, and goes when it is pruned itself.
      assert.deepEqual(await stores.trail.list("acme", "gone"), v1.trail.gone);
      assert.equal(await stores.trail.prune(clock.now() - hourMs), 1);
      assert.deepEqual(await stores.trail.list("acme", "gone"), []);
      const identities = stores.database.handle
        .prepare("SELECT event_id FROM events WHERE body IS NULL ORDER BY event_id")
        .pluck()
        .all();
      assert.deepEqual(identities, []);
    } finally {
      await stores.close();
    }
  });
});
