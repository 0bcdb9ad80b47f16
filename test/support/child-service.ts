/**
 * Starts the real server as a child process (`node --import tsx src/cli.ts serve`), for tests and
 * benchmarks that must kill it (`kill -9`, SIGTERM) or measure it apart from the load generator.
 *
 * Ready detection: with a log level that prints `info`, the child listens on port 0 and we read the
 * bound URL from its "zen-integrations started" log line; with a quieter level (benchmarks run at
 * `warn`, because every accepted request logs at `info`) we pick a free port up front and poll
 * `/health` until it answers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const cliEntry = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));

/** Log lines kept for diagnostics (the last ones), so a long run cannot exhaust memory. */
const keptLogLines = 500;
/**
 * Default time a child gets to print its start line: tsx compiles the sources on the fly, which takes
 * seconds on a 2-core machine busy with other test files.
 */
const defaultStartTimeoutMs = 45_000;
const healthPollIntervalMs = 50;

export interface ChildServiceOptions {
  /** `ZEN_DATA_DIR`. */
  readonly dataDir: string;
  /** Path of the YAML file (`ZEN_CONFIG`); absent = env-only configuration. */
  readonly configPath?: string;
  /** Extra environment (secrets, tuning knobs); wins over the defaults below. */
  readonly env?: Readonly<Record<string, string>>;
  /** `LOG_LEVEL`, default `info` (needed to see the start line; otherwise a free port is chosen). */
  readonly logLevel?: string;
  /** Default `serve`. */
  readonly command?: "serve" | "worker";
  /** Flags for `node` itself, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** Default 30 s. */
  readonly startTimeoutMs?: number;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildService {
  /** `http://127.0.0.1:port` the child listens on. */
  readonly url: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Settles when the child has exited and its output has been read. */
  readonly exited: Promise<ChildExit>;
  /** Parsed JSON log lines seen so far (the last {@link keptLogLines}). */
  readonly logs: readonly Record<string, unknown>[];
  /** Resolves with the first log line (already seen or future) whose `msg` is `msg`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Stderr and unparsable stdout so far, for assertion messages. */
  output(): string;
  /** Sends `signal` (no-op once exited) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<ChildExit>;
}

/** A port that was free a moment ago (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const infoLevels = new Set(["trace", "debug", "info"]);

export async function startChildService(options: ChildServiceOptions): Promise<ChildService> {
  const logLevel = options.logLevel ?? "info";
  const logsStartLine = infoLevels.has(logLevel);
  const port = logsStartLine ? 0 : await freePort();
  const env: Record<string, string> = {
    ...inheritedEnv(),
    PORT: String(port),
    HOST: "127.0.0.1",
    ZEN_DATA_DIR: options.dataDir,
    LOG_LEVEL: logLevel,
    ...(options.configPath === undefined ? {} : { ZEN_CONFIG: options.configPath }),
    ...options.env,
  };
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", "tsx", cliEntry, options.command ?? "serve"],
    { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const logs: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logWaiters: Array<{
    msg: string;
    resolve: (line: Record<string, unknown>) => void;
    reject: (err: Error) => void;
  }> = [];
  // `close`, not `exit`: it comes after the last output line was read, so no log line is missed.
  let exitState: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once("close", (code, signal) => {
      exitState = { code, signal };
      for (const waiter of logWaiters.splice(0)) {
        waiter.reject(
          new Error(`child exited (code ${code}, signal ${signal}) without logging "${waiter.msg}"`),
        );
      }
      resolve(exitState);
    });
  });
  const keep = <T>(list: T[], item: T) => {
    list.push(item);
    if (list.length > keptLogLines) list.splice(0, list.length - keptLogLines);
  };
  const onLine = (line: string) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      keep(raw, line);
      return;
    }
    if (typeof parsed !== "object" || parsed === null) return;
    const entry = parsed as Record<string, unknown>;
    keep(logs, entry);
    for (let i = logWaiters.length - 1; i >= 0; i--) {
      const waiter = logWaiters[i];
      if (waiter && waiter.msg === entry.msg) {
        logWaiters.splice(i, 1);
        waiter.resolve(entry);
      }
    }
  };
  readLines(child.stdout, onLine);
  readLines(child.stderr, (line) => keep(raw, line));

  const output = () =>
    [...raw, ...logs.slice(-20).map((entry) => JSON.stringify(entry))].join("\n").slice(-4_000);

  const waitForLog = (msg: string, timeoutMs = defaultStartTimeoutMs) => {
    const seen = logs.find((entry) => entry.msg === msg);
    if (seen) return Promise.resolve(seen);
    if (exitState) return Promise.reject(new Error(`child exited without logging "${msg}":\n${output()}`));
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Timers run before pending I/O: after a long-blocked event loop the line may be waiting in
        // the pipe. Let one round of I/O callbacks run before giving up.
        setImmediate(() => {
          const late = logs.find((entry) => entry.msg === msg);
          const index = logWaiters.findIndex((waiter) => waiter.msg === msg && waiter.resolve === settle);
          if (index >= 0) logWaiters.splice(index, 1);
          if (late) resolve(late);
          else reject(new Error(`child never logged "${msg}" within ${timeoutMs} ms:\n${output()}`));
        });
      }, timeoutMs);
      const settle = (line: Record<string, unknown>) => {
        clearTimeout(timer);
        resolve(line);
      };
      logWaiters.push({
        msg,
        resolve: settle,
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  };

  const kill = async (signal: NodeJS.Signals): Promise<ChildExit> => {
    if (exitState === undefined) child.kill(signal);
    return exited;
  };

  const startTimeoutMs = options.startTimeoutMs ?? defaultStartTimeoutMs;
  const started = logsStartLine
    ? waitForLog("zen-integrations started", startTimeoutMs).then((line) => String(line.url))
    : pollHealth(`http://127.0.0.1:${port}`, startTimeoutMs, () => exitState !== undefined);
  const exitedEarly = exited.then((state) => {
    throw new Error(
      `child exited before listening (code ${state.code}, signal ${state.signal}):\n${output()}`,
    );
  });
  // The race loser must not surface as an unhandled rejection later.
  exitedEarly.catch(() => undefined);
  started.catch(() => undefined);
  let url: string;
  try {
    url = await Promise.race([started, exitedEarly]);
  } catch (err) {
    await kill("SIGKILL");
    throw err;
  }
  return {
    url,
    pid: child.pid ?? -1,
    process: child,
    exited,
    logs,
    waitForLog,
    output,
    kill,
  };
}

/** The parent's environment minus our own knobs, so an exported `ZEN_CONFIG` cannot leak in. */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith("ZEN_") || name === "PORT" || name === "HOST") continue;
    env[name] = value;
  }
  return env;
}

function readLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) if (line !== "") onLine(line);
  });
  stream.on("end", () => {
    if (rest !== "") onLine(rest);
  });
}

async function pollHealth(url: string, timeoutMs: number, gone: () => boolean): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!gone()) {
    try {
      const response = await fetch(`${url}/health`);
      await response.arrayBuffer();
      if (response.ok) return url;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`no answer from ${url}/health within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, healthPollIntervalMs));
  }
  throw new Error(`the process behind ${url} exited`);
}
