/**
 * "Where is my event, and why?" in one look: the trail (intake decision, routes, every attempt),
 * the jobs still queued, and a one-line state per destination. Shared by the admin API and `zen trace`.
 */
import type { ZenEvent } from "../domain/event.ts";
import type { Job, Queue } from "../ports/queue.ts";
import type { TrailEntry, TrailStore } from "../ports/trail.ts";

export type DestinationState = "queued" | "retrying" | "delivered" | "dead_lettered" | "unknown";

export interface EventTrace {
  readonly tenant: string;
  readonly eventId: string;
  readonly event: ZenEvent | null;
  readonly destinations: Readonly<Record<string, { state: DestinationState; detail: string }>>;
  readonly trail: readonly TrailEntry[];
  readonly jobs: readonly Job[];
}

export async function traceEvent(
  queue: Queue,
  trail: TrailStore,
  tenant: string,
  eventId: string,
): Promise<EventTrace | undefined> {
  const [event, entries, jobs] = await Promise.all([
    queue.getEvent(tenant, eventId),
    trail.list(tenant, eventId),
    queue.jobsOfEvent(tenant, eventId),
  ]);
  if (!event && entries.length === 0 && jobs.length === 0) return undefined;

  const destinations: Record<string, { state: DestinationState; detail: string }> = {};
  // The intake entry names the destinations (`received`; older trails have a separate `routed`).
  const routed = entries.find(
    (e) => Array.isArray(e.detail?.destinations) && (e.stage === "received" || e.stage === "routed"),
  );
  const routedTo = routed?.detail?.destinations;
  if (Array.isArray(routedTo)) {
    for (const id of routedTo) destinations[id] = { state: "unknown", detail: "routed" };
  }
  for (const entry of entries) {
    if (!entry.destination) continue;
    const detail = entry.detail ?? {};
    switch (entry.stage) {
      case "delivered":
        destinations[entry.destination] = {
          state: "delivered",
          detail: `delivered on attempt ${entry.attempt ?? "?"}`,
        };
        break;
      case "dead_lettered":
      case "quarantined":
        destinations[entry.destination] = {
          state: "dead_lettered",
          detail: `in the DLQ: ${String(detail.reason ?? entry.stage)}${detail.error ? ` (${String(detail.error)})` : ""}`,
        };
        break;
      case "replayed":
        destinations[entry.destination] = { state: "queued", detail: "replayed from the DLQ" };
        break;
      default:
        break;
    }
  }
  for (const job of jobs) {
    const when = new Date(job.runAt).toISOString();
    destinations[job.destination] =
      job.attempts === 0
        ? { state: "queued", detail: `queued, runs at ${when}` }
        : {
            state: "retrying",
            detail: `retrying: ${job.attempts} failed attempt(s), last error ${job.lastError ?? "n/a"}, next at ${when}`,
          };
  }
  return { tenant, eventId, event: event ?? null, destinations, trail: entries, jobs };
}
