/**
 * The service-level environment variables (names and defaults are the external contract of DESIGN.md
 * §3). Tuning knobs that the YAML `settings:` block may also set live in tuning.ts; provider
 * credentials in providers.ts. An empty variable counts as unset (`FOO=` in a compose file), so it
 * takes the default.
 */
import type { LogLevel } from "./config.ts";
import { envLocation, type Problems } from "./problems.ts";
import {
  boolean,
  cidr,
  durationMs,
  integer,
  oneOf,
  type Parsed,
  type Parser,
  positiveDecimal,
  text,
} from "./values.ts";

/** The process environment as handed in by the caller (`process.env` in production). */
export type Env = Readonly<Record<string, string | undefined>>;

const second = 1_000;
const day = 86_400_000;

/** `LOG_LEVEL` values (pino levels), any case in the env. */
export const logLevels = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
] as const satisfies readonly LogLevel[];

export interface EnvSettings {
  /** `PORT`, default 8080; 0 picks a free port (tests). */
  readonly port: number;
  /** `HOST`, default `0.0.0.0`. */
  readonly host: string;
  /** `ZEN_DATA_DIR`, default `./data`: where the SQLite file lives. */
  readonly dataDir: string;
  /** `ZEN_CONFIG`: path of the YAML file; absent = env-only configuration. */
  readonly configPath?: string;
  /** `LOG_LEVEL`, default `info`. */
  readonly logLevel: LogLevel;
  /** `ZEN_ADMIN_TOKEN`; absent = admin API off. */
  readonly adminToken?: string;
  /** `ZEN_API_TOKEN`; bearer token of the ticket APIs (`POST /jira/issue`, `/servicenow/ticket…`). */
  readonly apiToken?: string;
  /** `WEBHOOK_SECRET`; present = tenant `default`, source `generic` (preset `generic`). */
  readonly webhookSecret?: string;
  /** `JIRA_WEBHOOK_SECRET`; present = tenant `default`, source `jira` (preset `jira`, `POST /jira/webhook`). */
  readonly jiraWebhookSecret?: string;
  /** `QUEUE_MAX_RETRIES`, default 3: total attempts, as in the seed. */
  readonly retryAttempts: number;
  /** `DLQ_RETENTION_PERIOD`, default 7d. */
  readonly dlqRetentionMs: number;
  /** `RATE_LIMIT_CAPACITY`, default 100 tokens. */
  readonly rateLimitCapacity: number;
  /** `RATE_LIMIT_REFILL_RATE`, default 10.0 tokens per second. */
  readonly rateLimitRefillPerSecond: number;
  /** `CIRCUIT_BREAKER_MAX_FAILURES`, default 5. */
  readonly breakerMaxFailures: number;
  /** `CIRCUIT_BREAKER_TIMEOUT`, default 60s. */
  readonly breakerResetTimeoutMs: number;
  /** `ZEN_EGRESS_ALLOW_PRIVATE`, default false: outbound requests to private/loopback addresses are refused. */
  readonly allowPrivateEgress: boolean;
  /** `ZEN_EGRESS_ALLOW_CIDRS`, default none: ranges reachable even though private, normalized, no duplicates. */
  readonly egressAllowCidrs: readonly string[];
}

/** Parses the service-level variables; a bad value is recorded and replaced by its default. */
export function parseEnv(env: Env, problems: Problems): EnvSettings {
  const value = <T>(name: string, parser: Parser<T>, fallback: T): T =>
    envValue(env, name, parser, problems) ?? fallback;
  const configPath = envValue(env, "ZEN_CONFIG", text, problems);
  const adminToken = envSecret(env, "ZEN_ADMIN_TOKEN", problems);
  const apiToken = envSecret(env, "ZEN_API_TOKEN", problems);
  const webhookSecret = envSecret(env, "WEBHOOK_SECRET", problems);
  const jiraWebhookSecret = envSecret(env, "JIRA_WEBHOOK_SECRET", problems);
  return {
    port: value("PORT", integer({ min: 0, max: 65_535 }), 8080),
    host: value("HOST", text, "0.0.0.0"),
    dataDir: value("ZEN_DATA_DIR", text, "./data"),
    ...(configPath === undefined ? {} : { configPath }),
    logLevel: value("LOG_LEVEL", oneOf(logLevels), "info"),
    ...(adminToken === undefined ? {} : { adminToken }),
    ...(apiToken === undefined ? {} : { apiToken }),
    ...(webhookSecret === undefined ? {} : { webhookSecret }),
    ...(jiraWebhookSecret === undefined ? {} : { jiraWebhookSecret }),
    retryAttempts: value("QUEUE_MAX_RETRIES", integer({ min: 1, max: 100 }), 3),
    dlqRetentionMs: value("DLQ_RETENTION_PERIOD", durationMs({ minMs: second, maxMs: 3_650 * day }), 7 * day),
    rateLimitCapacity: value("RATE_LIMIT_CAPACITY", integer({ min: 1, max: 1_000_000 }), 100),
    rateLimitRefillPerSecond: value("RATE_LIMIT_REFILL_RATE", positiveDecimal({ max: 1_000_000 }), 10),
    breakerMaxFailures: value("CIRCUIT_BREAKER_MAX_FAILURES", integer({ min: 1, max: 1_000 }), 5),
    breakerResetTimeoutMs: value(
      "CIRCUIT_BREAKER_TIMEOUT",
      durationMs({ minMs: second, maxMs: day }),
      60 * second,
    ),
    allowPrivateEgress: value("ZEN_EGRESS_ALLOW_PRIVATE", boolean, false),
    egressAllowCidrs: envList(env, "ZEN_EGRESS_ALLOW_CIDRS", cidr, problems),
  };
}

/**
 * A variable's parsed value, or undefined when it is unset, empty, or invalid (then recorded as
 * `env NAME: <message>`). Surrounding whitespace is ignored.
 */
export function envValue<T>(env: Env, name: string, parser: Parser<T>, problems: Problems): T | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return undefined;
  const result = parser(raw);
  if (result.ok) return result.value;
  problems.add(envLocation(name), result.message);
  return undefined;
}

/**
 * A comma-separated variable (`10.20.0.0/16, fd00::/8`): each entry parsed, whitespace around entries
 * ignored, duplicates (after parsing) dropped. Unset or blank = `[]`. Each bad entry, and each empty
 * one (`a,,b`, a trailing comma), is recorded as its own `env NAME: <message>` line and left out.
 */
export function envList<T>(env: Env, name: string, parser: Parser<T>, problems: Problems): T[] {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return [];
  const values: T[] = [];
  raw.split(",").forEach((part, i) => {
    const entry = part.trim();
    const result: Parsed<T> =
      entry === "" ? { ok: false, message: `entry ${i + 1} is empty (a stray comma?)` } : parser(entry);
    if (!result.ok) problems.add(envLocation(name), result.message);
    else if (!values.includes(result.value)) values.push(result.value);
  });
  return values;
}

/**
 * A secret variable, verbatim (no trimming: whitespace could be part of it), or undefined when unset
 * or empty. A whitespace-only value is a problem: it is never a real secret.
 */
export function envSecret(env: Env, name: string, problems: Problems): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (raw.trim() === "") {
    problems.add(envLocation(name), "is set but contains only whitespace");
    return undefined;
  }
  return raw;
}
