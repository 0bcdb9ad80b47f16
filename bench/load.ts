/**
 * The two load shapes of the benchmark, both fed from a {@link PoolCursor} so every request of a run
 * is a distinct pre-signed webhook:
 *
 * - {@link maxThroughput}: autocannon, closed loop, N connections each sending the next request as
 *   soon as the previous answer arrives. Measures the most requests/s a server sustains.
 * - {@link pacedLatency}: open loop at a fixed rate with evenly spaced arrivals, latency measured from
 *   each request's *scheduled* send time (free of coordinated omission). autocannon's `overallRate`
 *   is not used for latency: it hands each connection a per-second quota that all connections spend
 *   back-to-back at the top of every second, so a "half-rate" run is really a full-speed burst
 *   followed by silence, and its percentiles are those of the burst.
 */
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { Pool } from "undici";
import type { PoolCursor } from "./signed-pool.ts";

export interface LoadTarget {
  /** Origin, `http://127.0.0.1:port`. */
  readonly url: string;
  readonly path: string;
  readonly cursor: PoolCursor;
}

export interface LatencyFigures {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface RunFigures {
  /** Completed requests per second over the run. */
  readonly requestsPerSecond: number;
  readonly completed: number;
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  /** ms. */
  readonly latency: LatencyFigures;
  /** CPU time this (generator) process used per second of run: 1.0 = one core busy. */
  readonly generatorCores: number;
}

/** autocannon at full speed for `durationSeconds` over `connections` keep-alive connections. */
export async function maxThroughput(
  target: LoadTarget,
  options: { readonly connections: number; readonly durationSeconds: number },
): Promise<RunFigures> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await autocannon({
    url: target.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.durationSeconds,
    requests: [
      {
        method: "POST",
        path: target.path,
        setupRequest: (request) => {
          const next = target.cursor.next();
          return { ...request, method: "POST", path: target.path, headers: next.headers, body: next.body };
        },
      },
    ],
  });
  const elapsedSeconds = (performance.now() - started) / 1000;
  const completed = result["2xx"] + result.non2xx;
  return {
    requestsPerSecond: completed / result.duration,
    completed,
    non2xx: result.non2xx,
    errors: result.errors,
    latency: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    generatorCores: cpuSeconds(process.cpuUsage(cpuBefore)) / elapsedSeconds,
  };
}

/**
 * Sends `ratePerSecond` requests per second, evenly spaced, for `durationSeconds`, through an undici
 * pool of `connections` (a request waits for a free connection; that wait counts as latency).
 */
export async function pacedLatency(
  target: LoadTarget,
  options: { readonly ratePerSecond: number; readonly durationSeconds: number; readonly connections: number },
): Promise<RunFigures> {
  const total = Math.round(options.ratePerSecond * options.durationSeconds);
  const intervalMs = 1000 / options.ratePerSecond;
  const latencies = new Float64Array(total);
  const pool = new Pool(target.url, { connections: options.connections, pipelining: 1 });
  let sent = 0;
  let settled = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();

  await new Promise<void>((resolve) => {
    const settle = () => {
      if (++settled === total) resolve();
    };
    const send = (index: number, scheduledAt: number) => {
      const request = target.cursor.next();
      pool
        .request({ path: target.path, method: "POST", headers: request.headers, body: request.body })
        .then(async (response) => {
          await response.body.dump();
          latencies[index] = performance.now() - scheduledAt;
          if (response.statusCode >= 200 && response.statusCode <= 299) ok++;
          else non2xx++;
        })
        .catch(() => {
          latencies[index] = Number.NaN;
          errors++;
        })
        .finally(settle);
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
      while (sent < due) {
        send(sent, started + sent * intervalMs);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, started + sent * intervalMs - performance.now()));
    };
    tick();
  });
  const elapsedSeconds = (performance.now() - started) / 1000;
  await pool.close();

  const measured = Array.from(latencies)
    .filter((value) => !Number.isNaN(value))
    .sort((a, b) => a - b);
  return {
    requestsPerSecond: (ok + non2xx) / elapsedSeconds,
    completed: ok + non2xx,
    non2xx,
    errors,
    latency: {
      p50: percentile(measured, 0.5),
      p90: percentile(measured, 0.9),
      p99: percentile(measured, 0.99),
      max: measured.at(-1) ?? Number.NaN,
    },
    generatorCores: cpuSeconds(process.cpuUsage(cpuBefore)) / elapsedSeconds,
  };
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}
