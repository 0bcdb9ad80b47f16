import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "./load-config.ts";
import { problemsOf } from "./testing.ts";

describe("env vars", () => {
  it("defaults with an empty env", () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.port, 8080);
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.dataDir, "./data");
    assert.equal(config.configPath, undefined);
    assert.equal(config.logLevel, "info");
    assert.equal(config.adminToken, undefined);
    assert.equal(config.apiToken, undefined);
    assert.equal(config.genericWebhookSecret, undefined);
    assert.deepEqual(config.intake, {
      bodyLimitBytes: 1_048_576,
      toleranceSeconds: 300,
      idempotencyTtlMs: 86_400_000,
      commitWindowMs: 0,
    });
    assert.deepEqual(config.queue, {
      retry: { attempts: 3, initialDelayMs: 100, maxDelayMs: 5_000, factor: 2, jitter: true },
      maxRetryAfterMs: 300_000,
      leaseMs: 60_000,
      maxLeases: 5,
      concurrency: 16,
      pollIntervalMs: 1_000,
      dlqRetentionMs: 7 * 86_400_000,
      sqliteSynchronous: "full",
      sqliteWorker: false,
    });
    assert.deepEqual(config.egress, { allowPrivate: false, allowCidrs: [] });
    assert.deepEqual(config.guards, {
      rateLimit: { capacity: 100, refillPerSecond: 10 },
      circuitBreaker: { maxFailures: 5, resetTimeoutMs: 60_000 },
    });
    assert.deepEqual(config.providers, {});
    assert.equal(config.tenants.size, 0);
  });

  it("parses every service variable", () => {
    const config = loadConfig({
      env: {
        PORT: "9090",
        HOST: "127.0.0.1",
        ZEN_DATA_DIR: "/var/lib/zen",
        ZEN_ADMIN_TOKEN: "admin-token-not-real",
        ZEN_API_TOKEN: "api-token-not-real",
        LOG_LEVEL: "DEBUG",
        QUEUE_MAX_RETRIES: "7",
        DLQ_RETENTION_PERIOD: "12h",
        RATE_LIMIT_CAPACITY: "50",
        RATE_LIMIT_REFILL_RATE: "2.5",
        CIRCUIT_BREAKER_MAX_FAILURES: "9",
        CIRCUIT_BREAKER_TIMEOUT: "90",
        ZEN_EGRESS_ALLOW_PRIVATE: "1",
        ZEN_EGRESS_ALLOW_CIDRS: "10.20.0.0/16",
        ZEN_BODY_LIMIT_BYTES: "2048",
        ZEN_TOLERANCE_SECONDS: "120",
        ZEN_IDEMPOTENCY_TTL: "30m",
        ZEN_COMMIT_WINDOW_MS: "5",
        ZEN_LEASE_MS: "45000",
        ZEN_MAX_LEASES: "3",
        ZEN_CONCURRENCY: "4",
        ZEN_POLL_INTERVAL_MS: "250",
        ZEN_MAX_RETRY_AFTER: "1h30m",
        ZEN_SQLITE_SYNCHRONOUS: "normal",
        ZEN_SQLITE_WORKER: "true",
      },
    });
    assert.equal(config.port, 9090);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.dataDir, "/var/lib/zen");
    assert.equal(config.adminToken, "admin-token-not-real");
    assert.equal(config.apiToken, "api-token-not-real");
    assert.equal(config.logLevel, "debug");
    assert.equal(config.queue.retry.attempts, 7);
    assert.equal(config.queue.dlqRetentionMs, 12 * 3_600_000);
    assert.deepEqual(config.guards, {
      rateLimit: { capacity: 50, refillPerSecond: 2.5 },
      circuitBreaker: { maxFailures: 9, resetTimeoutMs: 90_000 },
    });
    assert.deepEqual(config.egress, { allowPrivate: true, allowCidrs: ["10.20.0.0/16"] });
    assert.deepEqual(config.intake, {
      bodyLimitBytes: 2048,
      toleranceSeconds: 120,
      idempotencyTtlMs: 1_800_000,
      commitWindowMs: 5,
    });
    assert.equal(config.queue.leaseMs, 45_000);
    assert.equal(config.queue.maxLeases, 3);
    assert.equal(config.queue.concurrency, 4);
    assert.equal(config.queue.pollIntervalMs, 250);
    assert.equal(config.queue.maxRetryAfterMs, 5_400_000);
    assert.equal(config.queue.sqliteSynchronous, "normal");
    assert.equal(config.queue.sqliteWorker, true);
  });

  it("treats an empty variable as unset", () => {
    const config = loadConfig({
      env: {
        PORT: "",
        QUEUE_MAX_RETRIES: "  ",
        ZEN_ADMIN_TOKEN: "",
        ZEN_API_TOKEN: "",
        JIRA_WEBHOOK_SECRET: "",
      },
    });
    assert.equal(config.port, 8080);
    assert.equal(config.queue.retry.attempts, 3);
    assert.equal(config.adminToken, undefined);
    assert.equal(config.apiToken, undefined);
    assert.equal(config.tenants.size, 0);
  });

  it("accepts true/false/1/0 for ZEN_EGRESS_ALLOW_PRIVATE", () => {
    for (const [raw, expected] of [
      ["true", true],
      ["TRUE", true],
      ["1", true],
      ["false", false],
      ["0", false],
    ] as const) {
      assert.equal(loadConfig({ env: { ZEN_EGRESS_ALLOW_PRIVATE: raw } }).egress.allowPrivate, expected, raw);
    }
  });

  it("parses ZEN_EGRESS_ALLOW_CIDRS into normalized ranges, tolerating whitespace", () => {
    const config = loadConfig({
      env: { ZEN_EGRESS_ALLOW_CIDRS: " 10.20.0.0/16 ,fd00::/8,\t172.16.5.0/24 , FD00:0::/8 , 10.20.0.0/16 " },
    });
    assert.deepEqual(config.egress.allowCidrs, ["10.20.0.0/16", "fd00::/8", "172.16.5.0/24"]);
    assert.ok(Object.isFrozen(config.egress.allowCidrs));
    assert.throws(() => (config.egress.allowCidrs as string[]).push("0.0.0.0/0"), TypeError);
    for (const blank of ["", "   "]) {
      assert.deepEqual(loadConfig({ env: { ZEN_EGRESS_ALLOW_CIDRS: blank } }).egress.allowCidrs, []);
    }
  });

  it("reports each bad ZEN_EGRESS_ALLOW_CIDRS entry on its own line", () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          ZEN_EGRESS_ALLOW_CIDRS: "10.20.0.0/16, 10.0.0.1, fd00::1, 10.1.0.0/8, 10.0.0.0/40, , intranet,",
        },
      }),
    );
    assert.deepEqual(problems, [
      'env ZEN_EGRESS_ALLOW_CIDRS: "10.0.0.1" has no prefix length; write 10.0.0.1/32 to allow that one address',
      'env ZEN_EGRESS_ALLOW_CIDRS: "fd00::1" has no prefix length; write fd00::1/128 to allow that one address',
      'env ZEN_EGRESS_ALLOW_CIDRS: "10.1.0.0/8" has bits set after the /8 prefix; write 10.0.0.0/8 for the whole range, or a longer prefix',
      'env ZEN_EGRESS_ALLOW_CIDRS: "10.0.0.0/40": the prefix length must be 0 to 32 for an IPv4 range',
      "env ZEN_EGRESS_ALLOW_CIDRS: entry 6 is empty (a stray comma?)",
      'env ZEN_EGRESS_ALLOW_CIDRS: "intranet" is not an IPv4 or IPv6 CIDR range like 10.20.0.0/16 or fd00::/8',
      "env ZEN_EGRESS_ALLOW_CIDRS: entry 8 is empty (a stray comma?)",
    ]);
  });

  it("reports each invalid variable by name, all at once", () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          PORT: "http",
          LOG_LEVEL: "verbose",
          QUEUE_MAX_RETRIES: "x",
          DLQ_RETENTION_PERIOD: "a week",
          RATE_LIMIT_CAPACITY: "-1",
          RATE_LIMIT_REFILL_RATE: "fast",
          CIRCUIT_BREAKER_MAX_FAILURES: "0",
          CIRCUIT_BREAKER_TIMEOUT: "60x",
          ZEN_EGRESS_ALLOW_PRIVATE: "yes",
          ZEN_BODY_LIMIT_BYTES: "1e6",
          ZEN_TOLERANCE_SECONDS: "0",
          ZEN_IDEMPOTENCY_TTL: "forever",
          ZEN_COMMIT_WINDOW_MS: "5000",
          ZEN_LEASE_MS: "10",
          ZEN_MAX_LEASES: "0",
          ZEN_CONCURRENCY: "many",
          ZEN_POLL_INTERVAL_MS: "1.5",
          ZEN_MAX_RETRY_AFTER: "-5m",
          ZEN_SQLITE_SYNCHRONOUS: "off",
          ZEN_SQLITE_WORKER: "yes",
        },
      }),
    );
    assert.deepEqual(problems, [
      'env PORT: expected a non-negative integer, got "http"',
      'env LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
      'env QUEUE_MAX_RETRIES: expected a positive integer, got "x"',
      'env DLQ_RETENTION_PERIOD: expected a duration like 30s, 5m, 12h, 7d or plain seconds, got "a week"',
      'env RATE_LIMIT_CAPACITY: expected a positive integer, got "-1"',
      'env RATE_LIMIT_REFILL_RATE: expected a positive number up to 1000000, got "fast"',
      'env CIRCUIT_BREAKER_MAX_FAILURES: expected a positive integer from 1 to 1000, got "0"',
      'env CIRCUIT_BREAKER_TIMEOUT: expected a duration like 30s, 5m, 12h, 7d or plain seconds, got "60x"',
      'env ZEN_EGRESS_ALLOW_PRIVATE: expected true, false, 1 or 0, got "yes"',
      'env ZEN_BODY_LIMIT_BYTES: expected a positive integer, got "1e6"',
      'env ZEN_TOLERANCE_SECONDS: expected a positive integer from 1 to 86400, got "0"',
      'env ZEN_IDEMPOTENCY_TTL: expected a duration like 30s, 5m, 12h, 7d or plain seconds, got "forever"',
      'env ZEN_COMMIT_WINDOW_MS: expected a non-negative integer from 0 to 1000, got "5000"',
      'env ZEN_LEASE_MS: expected a positive integer from 35000 to 3600000, got "10"',
      'env ZEN_MAX_LEASES: expected a positive integer from 1 to 100, got "0"',
      'env ZEN_CONCURRENCY: expected a positive integer, got "many"',
      'env ZEN_POLL_INTERVAL_MS: expected a positive integer, got "1.5"',
      'env ZEN_MAX_RETRY_AFTER: expected a duration like 30s, 5m, 12h, 7d or plain seconds, got "-5m"',
      'env ZEN_SQLITE_SYNCHRONOUS: expected one of full, normal, got "off"',
      'env ZEN_SQLITE_WORKER: expected true, false, 1 or 0, got "yes"',
    ]);
  });

  it("never echoes a secret variable", () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { ZEN_ADMIN_TOKEN: "   ", ZEN_API_TOKEN: " ", WEBHOOK_SECRET: " \t", JIRA_WEBHOOK_SECRET: "\n" },
      }),
    );
    assert.deepEqual(problems, [
      "env ZEN_ADMIN_TOKEN: is set but contains only whitespace",
      "env ZEN_API_TOKEN: is set but contains only whitespace",
      "env WEBHOOK_SECRET: is set but contains only whitespace",
      "env JIRA_WEBHOOK_SECRET: is set but contains only whitespace",
    ]);
  });
});
