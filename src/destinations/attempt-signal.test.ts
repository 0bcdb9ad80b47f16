import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, test } from "node:test";
import { attemptSignal } from "./attempt-signal.ts";

describe("attemptSignal", () => {
  test("aborts with the parent's reason", () => {
    const parent = new AbortController();
    const { signal, dispose } = attemptSignal(parent.signal, 60_000);
    assert.equal(signal.aborted, false);
    parent.abort(new Error("shutdown"));
    assert.equal(signal.aborted, true);
    assert.match(String(signal.reason), /shutdown/);
    dispose();
  });

  test("an already aborted parent aborts at once", () => {
    const parent = new AbortController();
    parent.abort();
    assert.equal(attemptSignal(parent.signal, 60_000).signal.aborted, true);
  });

  test("aborts with a TimeoutError at the deadline", async () => {
    const { signal, dispose } = attemptSignal(new AbortController().signal, 10);
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    assert.equal((signal.reason as DOMException).name, "TimeoutError");
    dispose();
  });

  test("dispose detaches from the parent and cancels the deadline", async () => {
    const parent = new AbortController();
    const { signal, dispose } = attemptSignal(parent.signal, 10);
    assert.equal(getEventListeners(parent.signal, "abort").length, 1);
    dispose();
    dispose();
    // Nothing stays attached to a long-lived parent (the leak AbortSignal.any has on Node 20).
    assert.equal(getEventListeners(parent.signal, "abort").length, 0);
    parent.abort();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(signal.aborted, false);
  });
});
