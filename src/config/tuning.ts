/**
 * Tuning knobs: each has an env var (`ZEN_…`) and a key in the YAML file's optional `settings:` block.
 * Precedence: env var, then `settings:`, then the default. Env wins so one deployment can adjust a
 * shared, checked-in file without editing it (the usual twelve-factor order).
 */
import type { Env } from "./env-schema.ts";
import { envValue } from "./env-schema.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { boolean, durationMs, integer, oneOf, type Parser } from "./values.ts";
import { kindOf, unknownKey } from "./zod-issues.ts";

const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;
const mebibyte = 1_048_576;

interface Knob<T> {
  readonly env: string;
  readonly parse: Parser<T>;
  readonly fallback: T;
}

const knob = <T>(env: string, parse: Parser<T>, fallback: T): Knob<T> => ({ env, parse, fallback });

/** The knobs, keyed by their `settings:` name; values are in the unit the name or parser states. */
export const tuningKnobs = {
  /** Largest accepted request body. Default 1 MiB; at most 100 MiB (bodies are buffered whole to verify). */
  bodyLimitBytes: knob("ZEN_BODY_LIMIT_BYTES", integer({ min: 1, max: 100 * mebibyte }), mebibyte),
  /** Default two-sided timestamp window for schemes that do not set one. Default 300 s, at most 1 day. */
  toleranceSeconds: knob("ZEN_TOLERANCE_SECONDS", integer({ min: 1, max: 86_400 }), 300),
  /** How long an intake dedupe key lives, in ms (written `24h`). Default 24 h. */
  idempotencyTtl: knob("ZEN_IDEMPOTENCY_TTL", durationMs({ minMs: second, maxMs: 365 * day }), day),
  /**
   * Group-commit window. Default 0 (next tick); at most 1 s because every intake response waits for
   * its commit, so the window is added to intake latency.
   */
  commitWindowMs: knob("ZEN_COMMIT_WINDOW_MS", integer({ min: 0, max: second }), 0),
  /**
   * How long a worker owns a leased job. Default 60 s: twice the default 30 s destination timeout, so
   * a slow but healthy send is never re-leased to a second worker (a duplicate delivery, and a lease
   * expiry counted towards poison-pill quarantine); the slack covers guards, rendering and the ack
   * write. Every destination's `timeoutMs` must stay below it (checked at load). At least 35 s: the
   * 30 s attempt deadline plus the worker's 5 s margin (`leaseMarginMs` in delivery/worker.ts).
   */
  leaseMs: knob("ZEN_LEASE_MS", integer({ min: 35 * second, max: hour }), 60 * second),
  /** Lease expiries before a job is quarantined as a poison pill. Default 5. */
  maxLeases: knob("ZEN_MAX_LEASES", integer({ min: 1, max: 100 }), 5),
  /** Deliveries in flight per worker process. Default 16. */
  concurrency: knob("ZEN_CONCURRENCY", integer({ min: 1, max: 1_024 }), 16),
  /** How often an idle worker looks for due jobs. Default 1 s. */
  pollIntervalMs: knob("ZEN_POLL_INTERVAL_MS", integer({ min: 10, max: minute }), second),
  /** Cap on a destination's `Retry-After`, in ms (written `5m`). Default 5 min. */
  maxRetryAfter: knob("ZEN_MAX_RETRY_AFTER", durationMs({ minMs: second, maxMs: day }), 5 * minute),
  /** SQLite `synchronous` pragma. Default `full`: a 2xx survives power loss, not just a process crash. */
  sqliteSynchronous: knob("ZEN_SQLITE_SYNCHRONOUS", oneOf(["full", "normal"]), "full"),
  /**
   * Run the SQLite store on a worker thread (src/adapters/sqlite/worker/): same semantics and
   * durability, and statements, commits and checkpoints no longer hold up the event loop (half the
   * main thread's CPU per request). Default false: on the 2-core benchmark machine intake is bound by
   * the store's disk writes, not the event loop, and the thread hop costs ~10% more CPU per request,
   * so in-thread was 3–10% faster (`npm run bench` with `BENCH_VARIANTS=ZEN_SQLITE_WORKER=true`). Worth
   * trying where the disk is fast and cores are free, or to keep the event loop free under intake load.
   */
  sqliteWorker: knob("ZEN_SQLITE_WORKER", boolean, false),
} as const;

export type TuningKey = keyof typeof tuningKnobs;

/** Resolved knob values (durations in ms). */
export type Tuning = { readonly [K in TuningKey]: (typeof tuningKnobs)[K]["fallback"] };

const tuningKeys = Object.keys(tuningKnobs) as TuningKey[];

/**
 * Resolves every knob from `env`, then the raw `settings:` block (validated here: unknown keys are
 * problems), then the default. Bad values are recorded and replaced by the default.
 */
export function parseTuning(
  env: Env,
  settings: unknown,
  settingsPath: FieldPath,
  problems: Problems,
): Tuning {
  const fromFile = settingsEntries(settings, settingsPath, problems);
  const resolve = <K extends TuningKey>(key: K): Tuning[K] => {
    // TS cannot correlate `key` with its knob's value type through the union; the table guarantees it.
    const spec = tuningKnobs[key] as Knob<Tuning[K]>;
    const fromEnv = envValue(env, spec.env, spec.parse, problems);
    if (fromEnv !== undefined) return fromEnv;
    return fromFile.has(key) ? (fromFile.get(key) as Tuning[K]) : spec.fallback;
  };
  return {
    bodyLimitBytes: resolve("bodyLimitBytes"),
    toleranceSeconds: resolve("toleranceSeconds"),
    idempotencyTtl: resolve("idempotencyTtl"),
    commitWindowMs: resolve("commitWindowMs"),
    leaseMs: resolve("leaseMs"),
    maxLeases: resolve("maxLeases"),
    concurrency: resolve("concurrency"),
    pollIntervalMs: resolve("pollIntervalMs"),
    maxRetryAfter: resolve("maxRetryAfter"),
    sqliteSynchronous: resolve("sqliteSynchronous"),
    sqliteWorker: resolve("sqliteWorker"),
  };
}

/**
 * The valid values of the `settings:` block, parsed. Checked key by key rather than with one strict
 * schema, so an unknown key does not hide a bad value next to it. A bad value is a problem even when
 * an env var overrides it: the file is still wrong.
 */
function settingsEntries(settings: unknown, path: FieldPath, problems: Problems): Map<TuningKey, unknown> {
  const entries = new Map<TuningKey, unknown>();
  if (settings === undefined || settings === null) return entries;
  if (typeof settings !== "object" || Array.isArray(settings)) {
    problems.at(path, `expected a mapping, got ${kindOf(settings)}`);
    return entries;
  }
  for (const [key, value] of Object.entries(settings)) {
    if (!(tuningKeys as string[]).includes(key)) {
      problems.at([...path, key], unknownKey(key, tuningKeys));
    } else if (
      typeof value === "string" ||
      typeof value === "number" ||
      // YAML's true/false, for the on/off knobs only: elsewhere a boolean is a mistake worth reporting.
      (typeof value === "boolean" && tuningKnobs[key as TuningKey].parse === boolean)
    ) {
      const result = tuningKnobs[key as TuningKey].parse(String(value).trim());
      if (result.ok) entries.set(key as TuningKey, result.value);
      else problems.at([...path, key], result.message);
    } else {
      problems.at([...path, key], `expected a number or a text like 30s, got ${kindOf(value)}`);
    }
  }
  return entries;
}
