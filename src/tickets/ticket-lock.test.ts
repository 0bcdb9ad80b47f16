import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryKeyStore } from "../adapters/memory/key-store.ts";
import { DeferredError, RetryableError } from "../domain/errors.ts";
import { TicketLocks } from "./ticket-lock.ts";

const fast = { ttlMs: 60_000, waitMs: 200, pollMs: 10, busyDelayMs: 1_500 };
const never = new AbortController().signal;
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("TicketLocks", () => {
  test("in one process: holders of one key run one at a time, in arrival order; other keys run alongside", async () => {
    const locks = new TicketLocks(new MemoryKeyStore(), fast);
    const log: string[] = [];
    const job = (key: string, name: string) =>
      locks.withLock(key, never, async () => {
        log.push(`${name}+`);
        await tick(20);
        log.push(`${name}-`);
      });
    await Promise.all([job("a", "a1"), job("a", "a2"), job("b", "b1"), job("a", "a3")]);
    const onlyA = log.filter((e) => e.startsWith("a"));
    assert.deepEqual(onlyA, ["a1+", "a1-", "a2+", "a2-", "a3+", "a3-"]);
    assert.ok(log.indexOf("b1+") < log.indexOf("a1-"), "key b waited for key a");
    await tick(0);
    // Nothing left behind per key once every holder is done (a long-running worker sees many keys).
    assert.equal((locks as unknown as { tails: Map<string, unknown> }).tails.size, 0);
  });

  test("the KeyStore claim is released after the work, also when it throws", async () => {
    const keys = new MemoryKeyStore();
    const locks = new TicketLocks(keys, fast);
    await assert.rejects(
      locks.withLock("k", never, async () => {
        assert.notEqual(await keys.get("k"), undefined);
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(await keys.get("k"), undefined);
  });

  test("a key held by another process: lock_busy once waitMs has passed; a claim that lapsed and was retaken is not ours to free", async () => {
    const keys = new MemoryKeyStore();
    await keys.claim("k", 60_000, "other-process");
    const locks = new TicketLocks(keys, fast);
    const error = await locks.withLock("k", never, async () => "ran").catch((err: unknown) => err);
    assert.ok(error instanceof DeferredError);
    assert.equal(error.reason, "lock_busy");
    assert.equal(error.delayMs, 1_500);
    assert.equal(await keys.get("k"), "other-process");

    await keys.delete("k");
    await locks.withLock("k", never, async () => {
      await keys.set("k", "someone-else", 60_000);
    });
    assert.equal(await keys.get("k"), "someone-else");
  });

  test("a holder in this process that takes too long: the next gives up with lock_busy, the one after still waits its turn", async () => {
    const locks = new TicketLocks(undefined, fast);
    const order: string[] = [];
    const slow = locks.withLock("k", never, async () => {
      await tick(300);
      order.push("slow");
    });
    const impatient = locks
      .withLock("k", never, async () => order.push("impatient"))
      .catch((err: unknown) => err);
    assert.ok((await impatient) instanceof DeferredError);
    const third = locks.withLock("k", never, async () => order.push("third"));
    await Promise.all([slow, third]);
    assert.deepEqual(order, ["slow", "third"]);
    await tick(0);
    assert.equal((locks as unknown as { tails: Map<string, unknown> }).tails.size, 0);
  });

  test("an aborted attempt stops waiting with a timeout", async () => {
    const keys = new MemoryKeyStore();
    await keys.claim("k", 60_000, "other-process");
    const locks = new TicketLocks(keys, { ...fast, waitMs: 5_000 });
    const error = await locks
      .withLock("k", AbortSignal.timeout(50), async () => "ran")
      .catch((err: unknown) => err);
    assert.ok(error instanceof RetryableError);
    assert.equal(error.reason, "timeout");
  });
});
