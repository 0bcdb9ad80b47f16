/**
 * The event trail: everything that happened to one event, in order, so `zen trace <eventId>` can say
 * where it is and why. Adapters: SQLite, memory. Conformance: test/conformance/trail.conformance.ts.
 */
export type TrailStage =
  | "received" // intake accepted (detail: source, type, matched routes and destinations or none)
  | "duplicate" // intake saw the dedupe key again
  | "routed" // written before intake folded routing into `received`: detail routes, destinations
  | "attempt" // one delivery attempt: outcome, statusCode, durationMs, reason, nextDelayMs
  | "delayed" // rescheduled without charge: rate_limited / circuit_open
  | "delivered"
  | "dead_lettered"
  | "replayed"
  | "quarantined";

export interface TrailEntry {
  readonly tenant: string;
  readonly eventId: string;
  /** ms since epoch */
  readonly at: number;
  readonly stage: TrailStage;
  readonly destination?: string;
  readonly attempt?: number;
  readonly detail?: Readonly<Record<string, string | number | boolean | null | readonly string[]>>;
}

export interface TrailStore {
  append(entries: readonly TrailEntry[]): Promise<void>;
  /** In time order (then insertion order). */
  list(tenant: string, eventId: string): Promise<readonly TrailEntry[]>;
  /** Drops entries older than `olderThanMs` (absolute ms since epoch). */
  prune(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}
