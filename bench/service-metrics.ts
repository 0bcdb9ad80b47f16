/**
 * Reads the service's own counters from `GET /metrics` (Prometheus text), so the benchmark can check
 * what the service did, not only what the client saw: every request "accepted", none "duplicate",
 * the queue drained.
 */

export interface ServiceCounters {
  /** `zen_intake_requests_total` summed by outcome (accepted, duplicate, or an error code). */
  readonly intake: Readonly<Record<string, number>>;
  /** `zen_deliveries_total` summed by outcome. */
  readonly deliveries: Readonly<Record<string, number>>;
  /** `zen_queue_depth` by state (ready, delayed, leased). */
  readonly queueDepth: Readonly<Record<string, number>>;
  /** Group commits so far (`zen_queue_commit_batch_size_count`). */
  readonly commits: number;
  /** Writes made durable by those commits (`zen_queue_commit_batch_size_sum`). */
  readonly committedWrites: number;
}

export async function readCounters(url: string): Promise<ServiceCounters> {
  const response = await fetch(`${url}/metrics`);
  const text = await response.text();
  const intake: Record<string, number> = {};
  const deliveries: Record<string, number> = {};
  const queueDepth: Record<string, number> = {};
  let batchSum = 0;
  let batchCount = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const match = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const [, name, labels = "", raw] = match;
    const value = Number(raw);
    const label = (key: string) => new RegExp(`${key}="([^"]*)"`).exec(labels)?.[1] ?? "";
    switch (name) {
      case "zen_intake_requests_total":
        intake[label("outcome")] = (intake[label("outcome")] ?? 0) + value;
        break;
      case "zen_deliveries_total":
        deliveries[label("outcome")] = (deliveries[label("outcome")] ?? 0) + value;
        break;
      case "zen_queue_depth":
        queueDepth[label("state")] = value;
        break;
      case "zen_queue_commit_batch_size_sum":
        batchSum = value;
        break;
      case "zen_queue_commit_batch_size_count":
        batchCount = value;
        break;
    }
  }
  return {
    intake,
    deliveries,
    queueDepth,
    commits: batchCount,
    committedWrites: batchSum,
  };
}

/** `after − before` for every key of either record. */
export function delta(
  after: Readonly<Record<string, number>>,
  before: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of new Set([...Object.keys(after), ...Object.keys(before)])) {
    const change = (after[key] ?? 0) - (before[key] ?? 0);
    if (change !== 0) out[key] = change;
  }
  return out;
}
