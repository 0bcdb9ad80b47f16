import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "./load-config.ts";
import { fakeFiles, problemsOf } from "./testing.ts";

const path = "/etc/zen/zen.yaml";
const load = (yaml: string, env: Record<string, string> = {}) =>
  loadConfig({ env: { ZEN_CONFIG: path, ...env }, readFile: fakeFiles({ [path]: yaml }) });

describe("settings: block", () => {
  it("sets tuning knobs from the file, durations as text and numbers as numbers", () => {
    const config = load(
      "settings:\n  bodyLimitBytes: 2048\n  idempotencyTtl: 2h\n  maxRetryAfter: 90\n  sqliteSynchronous: normal\n  sqliteWorker: true\n",
    );
    assert.equal(config.intake.bodyLimitBytes, 2048);
    assert.equal(config.intake.idempotencyTtlMs, 7_200_000);
    assert.equal(config.queue.maxRetryAfterMs, 90_000);
    assert.equal(config.queue.sqliteSynchronous, "normal");
    assert.equal(config.queue.sqliteWorker, true, "a YAML boolean for an on/off knob");
    assert.equal(config.queue.leaseMs, 60_000, "unset knobs keep their default");
  });

  it("lets the env var win over the file", () => {
    const config = load("settings:\n  concurrency: 8\n", { ZEN_CONCURRENCY: "32" });
    assert.equal(config.queue.concurrency, 32);
  });

  it("reports unknown keys and bad values under settings, all at once", () => {
    assert.deepEqual(
      problemsOf(() => load("settings:\n  concurrncy: 8\n  leaseMs: soon\n  pollIntervalMs: true\n")),
      [
        'settings.concurrncy: unknown key (did you mean "concurrency"?)',
        'settings.leaseMs: expected a positive integer, got "soon"',
        "settings.pollIntervalMs: expected a number or a text like 30s, got a boolean",
      ],
    );
    assert.deepEqual(
      problemsOf(() => load("settings: [1]\n")),
      ["settings: expected a mapping, got a list"],
    );
  });
});
