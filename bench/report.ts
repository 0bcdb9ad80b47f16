/** Presentation and checks of the benchmark's measurements: the table, the ratios, the targets. */
import type { RunFigures } from "./load.ts";

export interface Measurement extends RunFigures {
  readonly server: string;
  readonly phase: "max" | "paced";
  readonly round: number;
  /** CPU the server process used per second of run (1.0 = one core). */
  readonly serverCores: number;
  /** Services: intake outcomes counted by the service itself during the run. */
  readonly intakeOutcomes?: Readonly<Record<string, number>>;
  /** Services: mean writes per group commit during the run. */
  readonly commitBatchMean?: number;
  /** Services with a route: the queue backlog after the run and how long it took to drain. */
  readonly drain?: { readonly backlog: number; readonly seconds: number; readonly delivered: number };
}

export const fmt = (value: number | undefined, digits = 0): string =>
  value !== undefined && Number.isFinite(value)
    ? value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "n/a";

export const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;

/** Problems with a run's correctness; empty when every request was a 2xx the service accepted. */
export function checkRun(m: Measurement): string[] {
  const problems: string[] = [];
  const label = `${m.server} ${m.phase} #${m.round}`;
  if (m.non2xx > 0) problems.push(`${label}: ${m.non2xx} non-2xx answers`);
  if (m.errors > 0) problems.push(`${label}: ${m.errors} connection errors/timeouts`);
  if (m.intakeOutcomes) {
    const { accepted = 0, ...others } = m.intakeOutcomes;
    if (Object.keys(others).length > 0) {
      problems.push(`${label}: intake outcomes other than accepted: ${JSON.stringify(others)}`);
    }
    // autocannon abandons the requests in flight when a run ends; the service may still accept them.
    if (accepted < m.completed - m.non2xx) {
      problems.push(`${label}: ${m.completed - m.non2xx} 2xx answers but only ${accepted} accepted`);
    }
  }
  return problems;
}

export function printTable(rows: readonly Measurement[]): void {
  const header = [
    "server",
    "run",
    "req/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "server cores",
    "gen cores",
    "writes/commit",
    "non-2xx",
    "errors",
  ];
  const lines = rows.map((m) => [
    m.server,
    m.phase === "max" ? `max #${m.round}` : "paced",
    fmt(m.requestsPerSecond),
    fmt(m.latency.p50, 1),
    fmt(m.latency.p90, 1),
    fmt(m.latency.p99, 1),
    fmt(m.latency.max, 1),
    fmt(m.serverCores, 2),
    fmt(m.generatorCores, 2),
    m.commitBatchMean === undefined ? "" : fmt(m.commitBatchMean, 1),
    String(m.non2xx),
    String(m.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => (line[i] ?? "").length)));
  const row = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  console.log(row(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const line of lines) console.log(row(line));
}

export interface Ratio {
  /** Mean of the server's max-throughput runs divided by the mean of the bare server's. */
  readonly ofMeans: number;
  /** The same ratio per round (each service run against the bare run of its own round). */
  readonly perRound: readonly number[];
}

/** Throughput of `server` relative to `baseline`, overall and round by round. */
export function ratio(rows: readonly Measurement[], server: string, baseline: string): Ratio {
  const maxRuns = (name: string) => rows.filter((m) => m.server === name && m.phase === "max");
  const base = maxRuns(baseline);
  const runs = maxRuns(server);
  return {
    ofMeans: mean(runs.map((m) => m.requestsPerSecond)) / mean(base.map((m) => m.requestsPerSecond)),
    perRound: runs.map(
      (m) => m.requestsPerSecond / (base.find((b) => b.round === m.round)?.requestsPerSecond ?? Number.NaN),
    ),
  };
}
