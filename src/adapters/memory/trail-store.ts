/** In-memory TrailStore for tests; same semantics as the SQLite one (test/conformance/trail.conformance.ts). */
import type { TrailEntry, TrailStore } from "../../ports/trail.ts";

interface StoredEntry {
  readonly seq: number;
  readonly entry: TrailEntry;
}

/** TrailStore in an array, listed by (at, insertion order). Nothing is durable. */
export class MemoryTrailStore implements TrailStore {
  private entries: StoredEntry[] = [];
  private seq = 0;

  /**
   * Synchronous append, for the in-memory queue (it records a submission's trail atomically with the
   * enqueue). Entries are copied through JSON like a real store would, so callers cannot alias them.
   */
  appendNow(entries: readonly TrailEntry[]): void {
    for (const entry of entries) {
      this.entries.push({ seq: ++this.seq, entry: JSON.parse(JSON.stringify(entry)) as TrailEntry });
    }
  }

  async append(entries: readonly TrailEntry[]): Promise<void> {
    this.appendNow(entries);
  }

  async list(tenant: string, eventId: string): Promise<readonly TrailEntry[]> {
    return this.entries
      .filter(({ entry }) => entry.tenant === tenant && entry.eventId === eventId)
      .sort((a, b) => a.entry.at - b.entry.at || a.seq - b.seq)
      .map(({ entry }) => JSON.parse(JSON.stringify(entry)) as TrailEntry);
  }

  async prune(olderThanMs: number): Promise<number> {
    const before = this.entries.length;
    this.entries = this.entries.filter(({ entry }) => entry.at >= olderThanMs);
    return before - this.entries.length;
  }

  async close(): Promise<void> {}
}
