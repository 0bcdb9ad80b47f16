/**
 * The servers under test, each a child process of its own (so the load generator in this process
 * never shares an event loop with them), and what Linux says about them: CPU time and RSS from
 * `/proc/<pid>`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bareServerEntry = fileURLToPath(new URL("./bare-server.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../", import.meta.url));
/** Linux USER_HZ: /proc times are in these ticks. 100 on every mainstream kernel build. */
const clockTicksPerSecond = 100;

export interface BareServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts bench/bare-server.ts and waits for its `{"url":...}` line. */
export async function startBareServer(): Promise<BareServer> {
  const child = spawn(process.execPath, ["--import", "tsx", bareServerEntry], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, PORT: "0" },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      buffered += chunk;
      const line = buffered.split("\n")[0];
      if (line !== undefined && buffered.includes("\n")) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once("exit", (code) => reject(new Error(`bare server exited with code ${code}`)));
  });
  return { url, pid: child.pid ?? -1, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** User + system CPU seconds the process has used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at field 3; utime/stime are 14/15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}

export interface MemoryFigures {
  /** Resident set now, MiB. */
  readonly rssMiB: number;
  /** Peak resident set, MiB. */
  readonly peakRssMiB: number;
}

export function memoryOf(pid: number): MemoryFigures {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: kib("VmRSS") / 1024, peakRssMiB: kib("VmHWM") / 1024 };
}

/**
 * Waits until every process in `pids` is idle: together under `maxCores` of CPU over a `windowMs`
 * window (all threads: a service's checkpointer still copying its WAL after a run counts). Gives up
 * after `timeoutMs` and says so. Each measurement starts from here, so one server's after-work (WAL
 * checkpoints, fsyncs) is not charged to the next server's latency.
 */
export async function waitUntilIdle(
  pids: readonly number[],
  options: { maxCores?: number; windowMs?: number; timeoutMs?: number } = {},
): Promise<{ idle: boolean; waitedMs: number }> {
  const maxCores = options.maxCores ?? 0.05;
  const windowMs = options.windowMs ?? 300;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const started = performance.now();
  const total = () => pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  while (performance.now() - started < timeoutMs) {
    const before = total();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if ((total() - before) / (windowMs / 1000) < maxCores) {
      return { idle: true, waitedMs: performance.now() - started };
    }
  }
  return { idle: false, waitedMs: performance.now() - started };
}
