/**
 * Child process of crash-durability.test.ts: enqueues `count` events into `<dir>/zen.db` with many
 * in flight, printing each event id on stdout only after its enqueue promise resolved (= committed).
 * The parent kills it with SIGKILL mid-way and checks that every printed id survived.
 *
 * Usage: node --import tsx crash-durability.child.ts <dir> <count> [thread|worker]
 *   (`worker`: the stores run on a worker thread, see worker/worker-stores.ts; default in-thread)
 */
import { makeSubmission } from "../../../test/conformance/fixtures.ts";
import { openSqliteStores } from "./stores.ts";
import { openSqliteWorkerStores } from "./worker/worker-stores.ts";

/** Enqueues kept in flight at once, so several land in each group commit. */
const inFlight = 64;

const [dir, countArg, adapter = "thread"] = process.argv.slice(2);
if (dir === undefined || countArg === undefined || (adapter !== "thread" && adapter !== "worker")) {
  process.stderr.write("usage: crash-durability.child.ts <dir> <count> [thread|worker]\n");
  process.exit(2);
}
const count = Number(countArg);
const { queue } =
  adapter === "worker"
    ? await openSqliteWorkerStores({ dir, synchronous: "full" })
    : openSqliteStores({ dir, synchronous: "full" });

let next = 0;
async function enqueueLoop(): Promise<void> {
  while (next < count) {
    const eventId = `e${next++}`;
    await queue.enqueue(makeSubmission({ eventId, destinations: ["hook"] }, Date.now()));
    // stdout is a pipe here: writes are synchronous on Linux, so a printed id was handed over.
    process.stdout.write(`${eventId}\n`);
  }
}

await Promise.all(Array.from({ length: inFlight }, enqueueLoop));
