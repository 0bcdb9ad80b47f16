/** The TrailStore port, served by the SQLite store worker (see src/ports/trail.ts). */
import type { TrailEntry, TrailStore } from "../../../ports/trail.ts";
import type { StoreChannel } from "./store-channel.ts";

/** Forwards every call to the `SqliteTrailStore` in the worker, so the semantics are that adapter's. */
export class RemoteTrailStore implements TrailStore {
  private readonly channel: StoreChannel;

  constructor(channel: StoreChannel) {
    this.channel = channel;
  }

  async append(entries: readonly TrailEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.channel.call("trail", "append", [entries]);
  }

  list(tenant: string, eventId: string): Promise<readonly TrailEntry[]> {
    return this.channel.call("trail", "list", [tenant, eventId]);
  }

  prune(olderThanMs: number): Promise<number> {
    return this.channel.call("trail", "prune", [olderThanMs]);
  }

  /** Commits pending writes; the store file stays open (`close` of the stores). */
  async close(): Promise<void> {
    if (this.channel.alive) await this.channel.call("trail", "close", []);
  }
}
