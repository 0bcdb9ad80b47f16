/**
 * The one place configuration is read: env vars and the optional YAML file (`ZEN_CONFIG`) are parsed,
 * validated, cross-checked and compiled once, at startup, into a deep-frozen `Config`. Nothing else
 * reads `process.env`; the caller passes it in.
 *
 * Every problem is collected before failing, so one run lists them all, one line each.
 */

import { dirname, resolve } from "node:path";
import { genericRetryPolicy } from "../domain/backoff.ts";
import type { CompileContext } from "./compile-context.ts";
import { addEnvDefaults, envDefaults, implicitIds } from "./compile-env-defaults.ts";
import { envConnections } from "./compile-providers.ts";
import { compileTenants, freezeTenants } from "./compile-tenants.ts";
import type { Config } from "./config.ts";
import { type Env, parseEnv } from "./env-schema.ts";
import { topLevelSchema } from "./file-schema.ts";
import { deepFreeze } from "./frozen.ts";
import { Problems } from "./problems.ts";
import { defaultSlackApiUrl, parseProviders } from "./providers.ts";
import { readConfigFile } from "./read-config-file.ts";
import { type ReadFile, readFileUtf8 } from "./read-file.ts";
import { parseTuning } from "./tuning.ts";
import { parseNode } from "./zod-issues.ts";

/** The side effects `loadConfig` needs, injected. */
export interface LoadConfigInput {
  /** The environment: `process.env` in production, a plain object in tests. */
  readonly env: Env;
  /** Reads the YAML file and `file:` secrets; default `fs.readFileSync(path, "utf8")`. */
  readonly readFile?: ReadFile;
}

/**
 * Parses and validates the configuration.
 *
 * - Env vars and defaults: DESIGN.md §3, env-schema.ts, tuning.ts, providers.ts.
 * - `ZEN_CONFIG`: YAML with `tenants:` (file-schema.ts) and optional `settings:` (tuning knobs; env wins).
 * - `WEBHOOK_SECRET`, `JIRA_WEBHOOK_SECRET`, `JIRA_*`, `SERVICENOW_*`: add parts to tenant `default`
 *   (compile-env-defaults.ts), which also falls back to the env Jira/ServiceNow connections.
 *
 * Relative `file:` secret paths resolve against the YAML file's directory. The result is deep-frozen:
 * objects and arrays via `Object.freeze`, maps as read-only `FrozenMap` views (see frozen.ts).
 *
 * @throws ConfigError (code `config_invalid`) with one `<field>: <problem>` line per problem; messages
 *   never contain secret values.
 */
export function loadConfig(input: LoadConfigInput): Config {
  const { env } = input;
  const readFile = input.readFile ?? readFileUtf8;
  const problems = new Problems();

  const base = parseEnv(env, problems);
  const file =
    base.configPath === undefined ? undefined : readConfigFile(base.configPath, readFile, problems);
  const top = file === undefined ? {} : (parseNode(topLevelSchema, file, [], problems) ?? {});
  const tuning = parseTuning(env, top.settings, ["settings"], problems);
  const providers = parseProviders(env, problems);

  const ctx: CompileContext = {
    secrets: {
      env,
      readFile,
      baseDir: base.configPath === undefined ? process.cwd() : dirname(resolve(base.configPath)),
    },
    toleranceSeconds: tuning.toleranceSeconds,
    leaseMs: tuning.leaseMs,
    envConnections: envConnections(env, providers),
    slack: {
      // A valid SLACK_API_URL alone makes `providers.slack`, so absent means the default.
      apiUrl: providers.slack?.apiUrl ?? defaultSlackApiUrl,
      ...(providers.slack?.botToken !== undefined && { botToken: providers.slack.botToken }),
    },
    ...(providers.zenBack && { zenBack: providers.zenBack }),
  };
  const fromEnv = envDefaults(base, providers);
  const tenants = compileTenants(top.tenants ?? [], ["tenants"], ctx, problems, implicitIds(fromEnv));
  addEnvDefaults(tenants, fromEnv, ctx, problems);

  problems.throwIfAny();
  return deepFreeze<Config>({
    port: base.port,
    host: base.host,
    dataDir: base.dataDir,
    ...(base.configPath !== undefined && { configPath: base.configPath }),
    logLevel: base.logLevel,
    ...(base.adminToken !== undefined && { adminToken: base.adminToken }),
    ...(base.apiToken !== undefined && { apiToken: base.apiToken }),
    intake: {
      bodyLimitBytes: tuning.bodyLimitBytes,
      toleranceSeconds: tuning.toleranceSeconds,
      idempotencyTtlMs: tuning.idempotencyTtl,
      commitWindowMs: tuning.commitWindowMs,
    },
    queue: {
      // The seed's generic policy (100 ms–5 s, full jitter) with QUEUE_MAX_RETRIES attempts.
      retry: { ...genericRetryPolicy, attempts: base.retryAttempts },
      maxRetryAfterMs: tuning.maxRetryAfter,
      leaseMs: tuning.leaseMs,
      maxLeases: tuning.maxLeases,
      concurrency: tuning.concurrency,
      pollIntervalMs: tuning.pollIntervalMs,
      dlqRetentionMs: base.dlqRetentionMs,
      sqliteSynchronous: tuning.sqliteSynchronous,
      sqliteWorker: tuning.sqliteWorker,
    },
    egress: { allowPrivate: base.allowPrivateEgress, allowCidrs: base.egressAllowCidrs },
    guards: {
      rateLimit: { capacity: base.rateLimitCapacity, refillPerSecond: base.rateLimitRefillPerSecond },
      circuitBreaker: { maxFailures: base.breakerMaxFailures, resetTimeoutMs: base.breakerResetTimeoutMs },
    },
    providers,
    ...(base.webhookSecret !== undefined && { genericWebhookSecret: base.webhookSecret }),
    tenants: freezeTenants(tenants),
  });
}
