/**
 * Slack Events intake throughput (`npm run bench`, after the other benches): our service's
 * `POST /slack/events` side by side with `@slack/bolt`'s own `HTTPReceiver`, same generator
 * (autocannon), same machine, same run, the same pre-signed requests.
 *
 * - ours: `zen serve` with `SLACK_SIGNING_SECRET` only (tenant `default`, source `slack`), default
 *   settings, durable SQLite store (synchronous=full): verify, dedupe on `event_id`, commit, then 200.
 * - Bolt 5.1.0: `HTTPReceiver` with the same signing secret and an `app.event` listener; Bolt acks
 *   events itself before running listeners (processBeforeResponse: false, its default): verify + ack,
 *   nothing stored.
 *
 * Each request is a distinct `event_callback` (its own `event_id`, ~1 KB JSON) signed v0 at pool
 * build time, so the whole bench must finish inside Slack's 5-minute window (it takes about one and a
 * half). Both servers run as child processes of their own; runs alternate Bolt, ours, Bolt, ours.
 * Then a paced (open-loop) run of both at half of Bolt's measured maximum compares latency at equal load.
 *
 * Environment: BENCH_DURATION_S (10), BENCH_WARMUP_S (3), BENCH_PACED_S (10), BENCH_CONNECTIONS (64),
 * BENCH_ROUNDS (2), BENCH_SLACK_POOL (pre-signed requests, 250 000). Every `ZEN_*` variable of this
 * process is passed on to our service (knob experiments, e.g. `ZEN_SQLITE_SYNCHRONOUS=normal`).
 *
 * `tsx bench/slack-bench.ts --bolt` runs the Bolt server itself (the child), printing `{"url":…}`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { App, HTTPReceiver, LogLevel } from "@slack/bolt";
import { presetProfile } from "../src/intake/verify/presets.ts";
import { signRequest } from "../src/intake/verify/sign-request.ts";
import { type ChildService, startChildService } from "../test/support/child-service.ts";
import { type LoadTarget, maxThroughput, pacedLatency, type RunFigures } from "./load.ts";
import { cpuSecondsOf } from "./processes.ts";
import { checkRun, fmt, type Measurement, mean, printTable, ratio } from "./report.ts";
import { delta, readCounters } from "./service-metrics.ts";
import { PoolCursor, type SignedRequest } from "./signed-pool.ts";

const signingSecret = "bench-slack-signing-secret-not-real";
const eventsPath = "/slack/events";
/** The issue's target: our Slack Events intake at least twice Bolt's requests/s. */
const targetRatio = 2;
/** Bytes of each event body, like a typical `message` event with blocks. */
const eventBytes = 1_024;

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
  poolSize: envNumber("BENCH_SLACK_POOL", 250_000),
};

interface Server {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly cursor: PoolCursor;
  readonly service?: ChildService;
}

/** Distinct signed `event_callback` requests, built before any measurement. */
function buildPool(size: number): SignedRequest[] {
  const profile = presetProfile("slack");
  const nowMs = Date.now();
  const requests: SignedRequest[] = new Array(size);
  for (let i = 0; i < size; i++) {
    const body = Buffer.from(
      eventBody(`Ev${randomUUID().replaceAll("-", "").slice(0, 20).toUpperCase()}`, i),
    );
    requests[i] = {
      body,
      headers: {
        "content-type": "application/json",
        ...signRequest(profile, signingSecret, { body, nowMs }),
      },
    };
  }
  return requests;
}

/** An `app_mention` event_callback of exactly {@link eventBytes} bytes. */
function eventBody(eventId: string, sequence: number): string {
  const envelope = {
    token: "deprecated-verification-token",
    team_id: "T0BENCH01",
    api_app_id: "A0BENCH01",
    event: {
      type: "app_mention",
      user: "U0BENCH01",
      text: "",
      ts: `1700000000.${String(sequence).padStart(6, "0")}`,
      channel: "C0BENCH01",
      event_ts: `1700000000.${String(sequence).padStart(6, "0")}`,
    },
    type: "event_callback",
    event_id: eventId,
    event_time: 1_700_000_000,
    authorizations: [{ enterprise_id: null, team_id: "T0BENCH01", user_id: "U0BOT", is_bot: true }],
    is_ext_shared_channel: false,
  };
  const base = JSON.stringify(envelope).length;
  envelope.event.text = "<@U0BOT> ".padEnd(Math.max(0, eventBytes - base), "x");
  return JSON.stringify(envelope);
}

/** The Bolt side, run in its own process: HTTPReceiver + an event listener; prints its URL. */
async function runBoltServer(): Promise<void> {
  const receiver = new HTTPReceiver({ signingSecret, endpoints: eventsPath, logLevel: LogLevel.ERROR });
  // A constant authorization: with a plain `token`, Bolt would call auth.test (the network) on the
  // first event; this way authorizing costs Bolt one resolved promise per event, nothing more.
  const authorization = {
    botToken: ["xoxb", "0", "bench", "not", "real"].join("-"),
    botId: "B0BENCH01",
    botUserId: "U0BOT",
    teamId: "T0BENCH01",
  };
  const app = new App({ receiver, authorize: async () => authorization, logLevel: LogLevel.ERROR });
  let handled = 0;
  app.event("app_mention", async () => {
    handled++;
  });
  const server = await receiver.start(0);
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  server.keepAliveTimeout = 60_000;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
  process.on("SIGTERM", () => {
    process.stderr.write(`bolt handled ${handled} events\n`);
    void receiver.stop().then(() => process.exit(0));
  });
}

async function startBolt(): Promise<{ url: string; pid: number; child: ChildProcess }> {
  const entry = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ["--import", "tsx", entry, "--bolt"], {
    cwd: fileURLToPath(new URL("../", import.meta.url)),
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      buffered += chunk;
      const line = buffered.split("\n")[0];
      if (line !== undefined && buffered.includes("\n")) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once("exit", (code) => reject(new Error(`the Bolt server exited with code ${code}`)));
  });
  return { url, pid: child.pid ?? -1, child };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** This process's `ZEN_*` variables, for our service (its data dir is ours). */
function tuningEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith("ZEN_") && name !== "ZEN_DATA_DIR" && name !== "ZEN_CONFIG" && value !== undefined) {
      env[name] = value;
    }
  }
  return env;
}

async function measure(
  server: Server,
  phase: "max" | "paced",
  round: number,
  run: (target: LoadTarget) => Promise<RunFigures>,
): Promise<Measurement> {
  const before = server.service ? await readCounters(server.url) : undefined;
  const cpuBefore = cpuSecondsOf(server.pid);
  const started = performance.now();
  const figures = await run({ url: server.url, path: eventsPath, cursor: server.cursor });
  const serverCores = (cpuSecondsOf(server.pid) - cpuBefore) / ((performance.now() - started) / 1000);
  const base: Measurement = { ...figures, server: server.name, phase, round, serverCores };
  if (!before) return base;
  const after = await readCounters(server.url);
  const commits = after.commits - before.commits;
  return {
    ...base,
    intakeOutcomes: delta(after.intake, before.intake),
    commitBatchMean: commits > 0 ? (after.committedWrites - before.committedWrites) / commits : 0,
  };
}

async function main(): Promise<void> {
  console.log(`\n== Slack Events intake: zen vs @slack/bolt HTTPReceiver ==`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown"}, node ${process.version}`);
  console.log(`settings: ${JSON.stringify(settings)}; service env: ${JSON.stringify(tuningEnv())}`);
  const signStarted = performance.now();
  const pool = buildPool(settings.poolSize);
  console.log(
    `pre-signed ${fmt(pool.length)} distinct event_callback requests (${eventBytes} B) in ` +
      `${fmt((performance.now() - signStarted) / 1000, 1)} s`,
  );
  const poolBuiltAt = Date.now();

  const workDir = mkdtempSync(join(tmpdir(), "zen-slack-bench-"));
  const bolt = await startBolt();
  let zen: ChildService | undefined;
  try {
    zen = await startChildService({
      dataDir: join(workDir, "zen"),
      // At `info` every accepted request writes a log line, which would be measured too.
      logLevel: "warn",
      env: { ...tuningEnv(), SLACK_SIGNING_SECRET: signingSecret },
    });
    const servers: Server[] = [
      { name: "bolt", url: bolt.url, pid: bolt.pid, cursor: new PoolCursor(pool) },
      { name: "zen", url: zen.url, pid: zen.pid, cursor: new PoolCursor(pool), service: zen },
    ];
    const full = { connections: settings.connections, durationSeconds: settings.durationSeconds };
    for (const server of servers) {
      await measure(server, "max", 0, (target) =>
        maxThroughput(target, { ...full, durationSeconds: settings.warmupSeconds }),
      );
    }
    const rows: Measurement[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      for (const server of servers) {
        rows.push(await measure(server, "max", round, (target) => maxThroughput(target, full)));
      }
    }
    const boltMax = mean(
      rows.filter((m) => m.server === "bolt" && m.phase === "max").map((m) => m.requestsPerSecond),
    );
    const pacedRate = Math.max(1, Math.round(boltMax / 2));
    for (const server of servers) {
      rows.push(
        await measure(server, "paced", 0, (target) =>
          pacedLatency(target, {
            ratePerSecond: pacedRate,
            durationSeconds: settings.pacedSeconds,
            connections: settings.connections,
          }),
        ),
      );
    }
    const ageSeconds = (Date.now() - poolBuiltAt) / 1000;

    printTable(rows);
    const problems = rows.flatMap(checkRun);
    for (const server of servers) {
      if (server.cursor.wrapped > 0)
        problems.push(`${server.name}: the request pool wrapped (raise BENCH_SLACK_POOL)`);
    }
    if (ageSeconds > 300) problems.push(`the run took ${fmt(ageSeconds)} s: signatures went stale (> 300 s)`);
    const r = ratio(rows, "zen", "bolt");
    const zenMax = rows.filter((m) => m.server === "zen" && m.phase === "max");
    const boltRuns = rows.filter((m) => m.server === "bolt" && m.phase === "max");
    console.log(
      `\nmax throughput: zen ${fmt(mean(zenMax.map((m) => m.requestsPerSecond)))} req/s ` +
        `(p50 ${fmt(mean(zenMax.map((m) => m.latency.p50)), 1)} ms, p99 ${fmt(mean(zenMax.map((m) => m.latency.p99)), 1)} ms), ` +
        `bolt ${fmt(boltMax)} req/s (p50 ${fmt(mean(boltRuns.map((m) => m.latency.p50)), 1)} ms, ` +
        `p99 ${fmt(mean(boltRuns.map((m) => m.latency.p99)), 1)} ms)`,
    );
    console.log(
      `ratio zen/bolt: ${fmt(r.ofMeans, 2)}× (per round: ${r.perRound.map((x) => fmt(x, 2)).join(", ")}); ` +
        `target ≥ ${targetRatio}×: ${r.ofMeans >= targetRatio ? "met" : "NOT met"}`,
    );
    console.log(`paced at ${fmt(pacedRate)} req/s (half of Bolt's max): see the "paced" rows`);
    if (problems.length > 0) {
      console.log(`\nproblems:\n${problems.map((p) => `- ${p}`).join("\n")}`);
      process.exitCode = 1;
    }
  } finally {
    await stopChild(bolt.child);
    if (zen) {
      zen.process.kill("SIGTERM");
      await zen.exited;
    }
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv.includes("--bolt")) {
  await runBoltServer();
} else {
  await main();
}
