/**
 * `npm run bench`: signed-webhook intake throughput and latency of the real service, side by side
 * with a bare `node:http` server that only answers 200, under the same load generator in the same run.
 *
 *   1. Pre-sign a pool of unique GitHub webhooks (1 KB JSON bodies), before any measurement.
 *   2. Start, each as its own child process: the bare server; the service with no routes (scenario A,
 *      "intake": verify + dedupe + durable commit); a sink (another bare server) and the service
 *      routing every event to it (scenario B, "intake+delivery": the delivery workers run too).
 *   3. Warm up, then full-speed autocannon runs alternating bare, A, B, bare, A, B (the same generator,
 *      the same connections, requests drawn from the same pre-signed pool).
 *   4. A paced (open-loop) run of A and B at half of their measured maximum, for latency.
 *   5. Check the service's own counters (every request "accepted", none "duplicate", no errors), print
 *      a table, the ratios and the targets, and write every figure as JSON to a temp file.
 *
 * Environment: BENCH_DURATION_S (10), BENCH_WARMUP_S (3), BENCH_PACED_S (10), BENCH_CONNECTIONS (64),
 * BENCH_ROUNDS (2), BENCH_POOL (pre-signed requests, 400 000), BENCH_SKIP_DELIVERY=1 (no scenario B),
 * BENCH_CPU_PROF=<dir> (a V8 CPU profile of each service child, see bench/profile-summary.ts),
 * BENCH_VARIANTS="ENV=V ENV=V;ENV=V" (extra scenario-A services with those variables, measured in
 * the same rounds: knob experiments). Every `ZEN_*` variable of this process is passed on to all the
 * service children.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { type ChildService, startChildService } from "../test/support/child-service.ts";
import { type LoadTarget, maxThroughput, pacedLatency, type RunFigures } from "./load.ts";
import {
  type BareServer,
  cpuSecondsOf,
  type MemoryFigures,
  memoryOf,
  startBareServer,
  waitUntilIdle,
} from "./processes.ts";
import { checkRun, fmt, type Measurement, mean, printTable, ratio } from "./report.ts";
import { delta, readCounters } from "./service-metrics.ts";
import { bodyBytes, type PoolCursor, SignedPool } from "./signed-pool.ts";

const benchSecret = "bench-github-secret-not-real";
const sinkSecret = "whsec_YmVuY2gtc2luay1zZWNyZXQ=";
const tenant = "bench";
const intakePath = `/webhooks/${tenant}/gh`;

/** The targets: intake at least half the bare server's rate, p99 under 20 ms at half its max. */
const targetRatio = 0.5;
const targetP99Ms = 20;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

const settings = {
  durationSeconds: envNumber("BENCH_DURATION_S", 10),
  warmupSeconds: envNumber("BENCH_WARMUP_S", 3),
  pacedSeconds: envNumber("BENCH_PACED_S", 10),
  connections: envNumber("BENCH_CONNECTIONS", 64),
  rounds: envNumber("BENCH_ROUNDS", 2),
  poolSize: envNumber("BENCH_POOL", 400_000),
  skipDelivery: process.env.BENCH_SKIP_DELIVERY === "1",
  /** Longest wait for a routed service's queue to drain after a run, before the next run starts. */
  drainTimeoutMs: 90_000,
};

interface Server {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly cursor: PoolCursor;
  /** Absent for the bare server. */
  readonly service?: ChildService;
  /** The service routes to the sink: wait for its queue to drain after each run. */
  readonly delivers?: boolean;
}

interface Variant {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
}

/** `BENCH_VARIANTS="A=1 B=2;C=3"` → two variants. */
function parseVariants(raw: string | undefined): Variant[] {
  if (raw === undefined || raw.trim() === "") return [];
  return raw
    .split(";")
    .map((spec) => spec.trim())
    .filter((spec) => spec !== "")
    .map((spec) => {
      const env: Record<string, string> = {};
      for (const pair of spec.split(/\s+/)) {
        const eq = pair.indexOf("=");
        if (eq <= 0) throw new Error(`BENCH_VARIANTS: expected NAME=VALUE, got "${pair}"`);
        env[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return { name: `intake[${spec}]`, env };
    });
}

function serviceYaml(sinkUrl: string | undefined): string {
  const head = `tenants:
  - id: ${tenant}
    sources:
      - id: gh
        preset: github
        secrets: [env:BENCH_GH_SECRET]
`;
  if (sinkUrl === undefined) return head;
  return `${head}    destinations:
      - id: sink
        type: webhook
        url: "${sinkUrl}"
        secret: env:BENCH_SINK_SECRET
    routes:
      - from: [gh]
        to: [sink]
`;
}

/** This process's `ZEN_*` variables, handed to every service (data dir and config file are ours). */
function tuningEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith("ZEN_") && name !== "ZEN_DATA_DIR" && name !== "ZEN_CONFIG" && value !== undefined) {
      env[name] = value;
    }
  }
  return env;
}

async function startServiceChild(
  workDir: string,
  name: string,
  sinkUrl: string | undefined,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<ChildService> {
  const slug = name.replace(/[^a-zA-Z0-9_-]+/g, "_");
  const configPath = join(workDir, `${slug}.yaml`);
  writeFileSync(configPath, serviceYaml(sinkUrl));
  const profileDir = process.env.BENCH_CPU_PROF;
  return startChildService({
    dataDir: join(workDir, slug),
    configPath,
    // The default level, so the bench measures what runs in production (per-request lines are debug).
    logLevel: "info",
    env: {
      BENCH_GH_SECRET: benchSecret,
      BENCH_SINK_SECRET: sinkSecret,
      ZEN_EGRESS_ALLOW_PRIVATE: "true",
      // Scenario B measures the workers at full speed, not the default 10/s per-destination limit.
      RATE_LIMIT_CAPACITY: "1000000",
      RATE_LIMIT_REFILL_RATE: "1000000",
      ...tuningEnv(),
      ...extraEnv,
    },
    // One directory per service: tsx's loader thread writes a profile of its own next to the main one.
    ...(profileDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${join(profileDir, slug)}`] } : {}),
  });
}

/** Every server's pid, for {@link waitUntilIdle} before each measurement. */
const runningPids: number[] = [];

async function measure(
  server: Server,
  phase: "max" | "paced",
  round: number,
  run: (target: LoadTarget) => Promise<RunFigures>,
): Promise<Measurement> {
  // Every server idle first: another one's after-work (WAL checkpoints) must not land in this run.
  const settled = await waitUntilIdle(runningPids);
  if (!settled.idle)
    console.log(`(servers still busy after ${fmt(settled.waitedMs / 1000, 1)} s; measuring anyway)`);
  const before = server.service ? await readCounters(server.url) : undefined;
  const cpuBefore = cpuSecondsOf(server.pid);
  const started = performance.now();
  const figures = await run({ url: server.url, path: intakePath, cursor: server.cursor });
  const serverCores = (cpuSecondsOf(server.pid) - cpuBefore) / ((performance.now() - started) / 1000);
  const base: Measurement = { ...figures, server: server.name, phase, round, serverCores };
  if (!before) return base;

  const after = await readCounters(server.url);
  const commits = after.commits - before.commits;
  const measured: Measurement = {
    ...base,
    intakeOutcomes: delta(after.intake, before.intake),
    commitBatchMean: commits > 0 ? (after.committedWrites - before.committedWrites) / commits : 0,
  };
  return server.delivers ? { ...measured, drain: await waitForDrain(server.url) } : measured;
}

/** Waits until a routed service's queue is empty, so the next run starts on an idle machine. */
async function waitForDrain(url: string): Promise<{ backlog: number; seconds: number; delivered: number }> {
  const started = performance.now();
  const depth = (counts: Readonly<Record<string, number>>) =>
    (counts.ready ?? 0) + (counts.delayed ?? 0) + (counts.leased ?? 0);
  const first = await readCounters(url);
  let current = first;
  while (depth(current.queueDepth) > 0) {
    if (performance.now() - started > settings.drainTimeoutMs) {
      throw new Error(`${depth(current.queueDepth)} jobs still queued after ${settings.drainTimeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
    current = await readCounters(url);
  }
  return {
    backlog: depth(first.queueDepth),
    seconds: (performance.now() - started) / 1000,
    delivered: (current.deliveries.delivered ?? 0) - (first.deliveries.delivered ?? 0),
  };
}

/** The commit measured, and whether the working tree differs from it (figures belong to a revision). */
function revision(): string {
  const git = (...args: string[]) => spawnSync("git", args, { encoding: "utf8" }).stdout?.trim() ?? "";
  const head = git("rev-parse", "--short", "HEAD") || "unknown";
  const changed = git("status", "--porcelain", "--untracked-files=no", "--", "src")
    .split("\n")
    .filter((line) => line !== "").length;
  return changed > 0 ? `${head} + ${changed} changed src files` : head;
}

const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function main(): Promise<void> {
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    revision: revision(),
    loadAverageBefore: loadAverage(),
  };
  const variants = parseVariants(process.env.BENCH_VARIANTS);
  console.log(
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}`,
  );
  console.log(`revision: ${machine.revision}; load average before: ${machine.loadAverageBefore}`);
  console.log(`settings: ${JSON.stringify(settings)}; service env: ${JSON.stringify(tuningEnv())}`);

  const signStarted = performance.now();
  const pool = SignedPool.build(settings.poolSize, benchSecret);
  console.log(
    `pre-signed ${fmt(pool.size)} unique requests (${bodyBytes} B JSON bodies) in ` +
      `${fmt((performance.now() - signStarted) / 1000, 1)} s`,
  );

  const workDir = mkdtempSync(join(tmpdir(), "zen-bench-"));
  const bare: BareServer = await startBareServer();
  const sink: BareServer = await startBareServer();
  const children: ChildService[] = [];
  const servers: Server[] = [{ name: "bare", url: bare.url, pid: bare.pid, cursor: pool.cursor() }];
  runningPids.push(bare.pid);
  const addService = async (name: string, sinkUrl: string | undefined, env?: Record<string, string>) => {
    const child = await startServiceChild(workDir, name, sinkUrl, env);
    children.push(child);
    const delivers = sinkUrl !== undefined;
    servers.push({ name, url: child.url, pid: child.pid, cursor: pool.cursor(), service: child, delivers });
    runningPids.push(child.pid);
  };
  try {
    await addService("intake", undefined);
    if (!settings.skipDelivery) await addService("intake+delivery", `${sink.url}/hook`);
    for (const variant of variants) await addService(variant.name, undefined, variant.env);

    const full = { connections: settings.connections, durationSeconds: settings.durationSeconds };
    console.log(`warm-up: ${settings.warmupSeconds} s each`);
    for (const server of servers) {
      await measure(server, "max", 0, (target) =>
        maxThroughput(target, { ...full, durationSeconds: settings.warmupSeconds }),
      );
    }

    const rows: Measurement[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      for (const server of servers) {
        const m = await measure(server, "max", round, (target) => maxThroughput(target, full));
        const drained = m.drain
          ? `; backlog ${fmt(m.drain.backlog)} jobs drained in ${fmt(m.drain.seconds, 1)} s`
          : "";
        console.log(
          `max #${round} ${server.name}: ${fmt(m.requestsPerSecond)} req/s, p99 ${fmt(m.latency.p99, 1)} ms${drained}`,
        );
        rows.push(m);
      }
    }
    const maxOf = (name: string) =>
      mean(rows.filter((m) => m.server === name && m.phase === "max").map((m) => m.requestsPerSecond));

    for (const server of servers.filter((s) => s.service)) {
      const rate = Math.floor(maxOf(server.name) / 2);
      const m = await measure(server, "paced", 0, (target) =>
        pacedLatency(target, {
          ratePerSecond: rate,
          durationSeconds: settings.pacedSeconds,
          connections: settings.connections,
        }),
      );
      console.log(
        `paced ${server.name} at ${fmt(rate)} req/s: p50 ${fmt(m.latency.p50, 1)}, ` +
          `p90 ${fmt(m.latency.p90, 1)}, p99 ${fmt(m.latency.p99, 1)} ms`,
      );
      rows.push(m);
    }

    const memory: Record<string, MemoryFigures> = {};
    for (const server of servers) memory[server.name] = memoryOf(server.pid);
    const poolUse = Object.fromEntries(
      servers.map((s) => [s.name, { used: s.cursor.used, wrapped: s.cursor.wrapped }]),
    );

    console.log("");
    printTable(rows);
    console.log("");
    const bareMax = maxOf("bare");
    const ratios = Object.fromEntries(
      servers.filter((s) => s.service).map((s) => [s.name, ratio(rows, s.name, "bare")]),
    );
    console.log(`bare server: ${fmt(bareMax)} req/s (mean of ${settings.rounds} runs)`);
    for (const [name, r] of Object.entries(ratios)) {
      console.log(
        `${name}: ${fmt(maxOf(name))} req/s = ${fmt(r.ofMeans, 3)}× bare ` +
          `(per round ${r.perRound.map((x) => fmt(x, 3)).join(", ")})`,
      );
    }
    const pacedIntake = rows.find((m) => m.server === "intake" && m.phase === "paced");
    const intakeRatio = ratios.intake?.ofMeans ?? Number.NaN;
    const targets = {
      throughput: {
        target: `intake ≥ ${targetRatio}× bare`,
        measured: intakeRatio,
        met: intakeRatio >= targetRatio,
      },
      latency: {
        target: `intake p99 < ${targetP99Ms} ms at half its max rate`,
        measuredMs: pacedIntake?.latency.p99,
        met: (pacedIntake?.latency.p99 ?? Number.POSITIVE_INFINITY) < targetP99Ms,
      },
    };
    console.log(
      `target ${targets.throughput.target}: ${targets.throughput.met ? "met" : "NOT met"} (${fmt(intakeRatio, 3)}×)`,
    );
    console.log(
      `target ${targets.latency.target}: ${targets.latency.met ? "met" : "NOT met"} (${fmt(pacedIntake?.latency.p99, 1)} ms)`,
    );
    for (const [name, m] of Object.entries(memory)) {
      console.log(`RSS after the run: ${name} ${fmt(m.rssMiB)} MiB (peak ${fmt(m.peakRssMiB)} MiB)`);
    }
    console.log(`pool entries used: ${JSON.stringify(poolUse)}`);
    const loadAverageAfter = loadAverage();
    console.log(`load average after: ${loadAverageAfter}`);

    const problems = rows.flatMap(checkRun);
    for (const server of servers) {
      if (server.service && server.cursor.wrapped > 0) {
        problems.push(`${server.name}: the pool ran out and requests repeated (raise BENCH_POOL)`);
      }
    }
    const resultPath = join(tmpdir(), `zen-bench-${Date.now()}.json`);
    const figures = {
      machine: { ...machine, loadAverageAfter },
      settings,
      serviceEnv: tuningEnv(),
      variants,
      rows,
      ratios,
      targets,
      memory,
      poolUse,
      problems,
    };
    writeFileSync(resultPath, `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`figures (JSON): ${resultPath}`);
    if (problems.length > 0) {
      console.error(`correctness problems:\n  ${problems.join("\n  ")}`);
      process.exitCode = 1;
    } else {
      console.log(
        "correctness: every request got a 2xx that the service counted as accepted (no duplicates)",
      );
    }
  } finally {
    // SIGTERM: a graceful stop, which also lets --cpu-prof write its profile.
    await Promise.all(children.map((child) => child.kill("SIGTERM")));
    await Promise.all([bare.stop(), sink.stop()]);
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
