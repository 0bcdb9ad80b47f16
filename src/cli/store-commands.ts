/**
 * `zen dlq …` and `zen trace`: operate on the store directly (same `ZEN_DATA_DIR`), so they work
 * whether or not the service is running. SQLite in WAL mode lets them run beside a live server.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { databaseFileName } from "../adapters/sqlite/database.ts";
import { openSqliteStores, type SqliteStores } from "../adapters/sqlite/stores.ts";
import { traceEvent } from "../admin/event-trace.ts";
import type { Config } from "../config/config.ts";
import { ZenError } from "../domain/errors.ts";
import type { DlqFilter } from "../ports/queue.ts";

export type Print = (line: string) => void;

export interface FilterOptions {
  readonly tenant?: string;
  readonly destination?: string;
  readonly source?: string;
  readonly reason?: string;
}

/**
 * Opens the service's store, runs `run`, closes it. Refuses a data dir without a store instead of
 * creating one: a mistyped `ZEN_DATA_DIR` must not answer "the DLQ is empty" from a fresh file.
 * @throws ZenError `store_missing` when `<ZEN_DATA_DIR>/zen.db` does not exist.
 */
export async function withStores<T>(config: Config, run: (stores: SqliteStores) => Promise<T>): Promise<T> {
  const path = join(config.dataDir, databaseFileName);
  if (!existsSync(path)) {
    throw new ZenError("store_missing", `no store at ${path}: set ZEN_DATA_DIR to the service's data dir`);
  }
  const stores = openSqliteStores({ dir: config.dataDir, synchronous: config.queue.sqliteSynchronous });
  try {
    return await run(stores);
  } finally {
    await stores.close();
  }
}

export function toFilter(options: FilterOptions): DlqFilter {
  const filter: { -readonly [K in keyof DlqFilter]: DlqFilter[K] } = {};
  if (options.tenant) filter.tenant = options.tenant;
  if (options.destination) filter.destination = options.destination;
  if (options.source) filter.source = options.source;
  if (options.reason) filter.reason = options.reason;
  return filter;
}

export async function dlqList(
  stores: SqliteStores,
  filter: DlqFilter,
  limit: number,
  cursor: string | undefined,
  print: Print,
): Promise<void> {
  const page = await stores.queue.listDlq(filter, cursor === undefined ? { limit } : { limit, cursor });
  if (page.items.length === 0) {
    print("the DLQ is empty (for this filter)");
    return;
  }
  print(
    ["id", "failed at", "tenant", "destination", "event id", "reason", "attempts", "last error"].join("\t"),
  );
  for (const e of page.items) {
    print(
      [
        e.id,
        new Date(e.failedAt).toISOString(),
        e.tenant,
        e.destination,
        e.eventId,
        e.reason,
        String(e.attempts),
        (e.lastError ?? "").slice(0, 120),
      ].join("\t"),
    );
  }
  if (page.next) print(`more: --cursor ${page.next}`);
}

export async function dlqShow(stores: SqliteStores, id: string, print: Print): Promise<boolean> {
  const entry = await stores.queue.getDlq(id);
  if (!entry) return false;
  print(JSON.stringify(entry, null, 2));
  return true;
}

export async function trace(
  config: Config,
  stores: SqliteStores,
  eventId: string,
  tenant: string | undefined,
  print: Print,
): Promise<boolean> {
  const tenants = tenant ? [tenant] : [...config.tenants.keys()];
  let found = false;
  for (const id of tenants) {
    const result = await traceEvent(stores.queue, stores.trail, id, eventId);
    if (!result) continue;
    found = true;
    print(
      `event ${eventId} (tenant ${id}, source ${result.event?.source ?? "?"}, type ${result.event?.type ?? "?"})`,
    );
    const destinations = Object.entries(result.destinations);
    if (destinations.length === 0) print("  no destination: no route matched");
    for (const [destination, state] of destinations)
      print(`  → ${destination}: ${state.state} — ${state.detail}`);
    print("  trail:");
    for (const entry of result.trail) {
      const detail = entry.detail ? ` ${JSON.stringify(entry.detail)}` : "";
      const where = entry.destination ? ` ${entry.destination}` : "";
      const attempt = entry.attempt ? ` #${entry.attempt}` : "";
      print(`    ${new Date(entry.at).toISOString()} ${entry.stage}${where}${attempt}${detail}`);
    }
  }
  return found;
}
