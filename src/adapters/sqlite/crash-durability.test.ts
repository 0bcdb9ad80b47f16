/**
 * The durability promise behind "a 2xx survives kill -9": a child process enqueues and prints each
 * event id once its enqueue resolved; we SIGKILL it mid-stream, reopen the file, and require every
 * printed id (and its job) to be there. Once with the stores in-thread, once on their worker thread
 * (worker/worker-stores.ts), where the commit and its fsync happen before the reply leaves the worker.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openSqliteStores } from "./stores.ts";

const childScript = fileURLToPath(new URL("./crash-durability.child.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
/** Kill once this many enqueues were acknowledged: well into the run, far from its end. */
const killAfterAcks = 2_000;
const plannedEnqueues = 1_000_000;

describe("SQLite durability under kill -9", () => {
  const root = mkdtempSync(join(tmpdir(), "zen-crash-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const adapter of ["thread", "worker"] as const) {
    it(`keeps every enqueue that was acknowledged before the kill (stores ${adapter === "thread" ? "in-thread" : "on a worker thread"})`, async () => {
      await crashAndCheck(join(root, adapter), adapter);
    });
  }
});

/** Runs the child on `dir` with `adapter`, kills it mid-stream, and checks the file in-thread. */
async function crashAndCheck(dir: string, adapter: "thread" | "worker"): Promise<void> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", childScript, dir, String(plannedEnqueues), adapter],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
  );
  let output = "";
  let acks = 0;
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    output += chunk;
    acks += chunk.split("\n").length - 1;
    if (acks >= killAfterAcks) child.kill("SIGKILL");
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on("close", (c, s) => resolve([c, s])),
  );
  assert.equal(signal, "SIGKILL", `child should be killed mid-way, exited with code ${code}`);

  // Only complete lines count: a torn last line was never fully acknowledged.
  const acknowledged = output.split("\n").slice(0, -1);
  assert.ok(acknowledged.length >= killAfterAcks);
  assert.ok(acknowledged.length < plannedEnqueues);

  const stores = openSqliteStores({ dir });
  try {
    const missing: string[] = [];
    for (const eventId of acknowledged) {
      const jobs = await stores.queue.jobsOfEvent("acme", eventId);
      if (jobs.length !== 1 || (await stores.queue.getEvent("acme", eventId)) === undefined)
        missing.push(eventId);
    }
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged enqueues were lost`);
  } finally {
    await stores.close();
  }
}
