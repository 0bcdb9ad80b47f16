/**
 * The KeyStore contract (src/ports/key-store.ts), as tests every adapter must pass unchanged.
 * Driven by a FakeClock; no sleeps; uses only the port.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { FakeClock } from "../../src/ports/clock.ts";
import type { KeyStore } from "../../src/ports/key-store.ts";

export interface KeyStoreHarness {
  readonly keyStore: KeyStore;
  cleanup(): Promise<void>;
}

/** Builds a fresh, empty key store on `clock` for one test. */
export type KeyStoreFactory = (clock: FakeClock) => Promise<KeyStoreHarness>;

export function keyStoreConformance(name: string, make: KeyStoreFactory): void {
  describe(`KeyStore conformance: ${name}`, () => {
    let clock: FakeClock;
    let harness: KeyStoreHarness;
    let keys: KeyStore;

    beforeEach(async () => {
      clock = new FakeClock();
      harness = await make(clock);
      keys = harness.keyStore;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it("claims an absent key once; a live claim refuses others", async () => {
      assert.equal(await keys.claim("nonce:1", 1_000, "first"), true);
      assert.equal(await keys.claim("nonce:1", 1_000, "second"), false);
      assert.equal(await keys.get("nonce:1"), "first");
      assert.equal(await keys.claim("nonce:2", 1_000), true, "keys are independent");
    });

    it("treats an expired claim as absent", async () => {
      assert.equal(await keys.claim("k", 1_000, "old"), true);
      clock.advance(999);
      assert.equal(await keys.claim("k", 1_000, "new"), false);
      assert.equal(await keys.get("k"), "old");
      clock.advance(1);
      assert.equal(await keys.get("k"), undefined);
      assert.equal(await keys.claim("k", 1_000, "new"), true);
      assert.equal(await keys.get("k"), "new");
    });

    it("gets the empty string for a claim without a value, undefined for an absent key", async () => {
      await keys.claim("k", 1_000);
      assert.equal(await keys.get("k"), "");
      assert.equal(await keys.get("absent"), undefined);
    });

    it("set overwrites a live key and restarts its TTL", async () => {
      await keys.claim("k", 1_000, "a");
      clock.advance(500);
      await keys.set("k", "b", 1_000);
      assert.equal(await keys.get("k"), "b");
      clock.advance(999);
      assert.equal(await keys.get("k"), "b");
      assert.equal(await keys.claim("k", 1_000), false);
      clock.advance(1);
      assert.equal(await keys.get("k"), undefined);
      await keys.set("fresh", "c", 10);
      assert.equal(await keys.get("fresh"), "c");
    });

    it("delete answers whether a live key was removed", async () => {
      await keys.set("live", "v", 1_000);
      await keys.set("expired", "v", 1_000);
      clock.advance(1_000);
      await keys.set("live", "v", 1_000);
      assert.equal(await keys.delete("live"), true);
      assert.equal(await keys.get("live"), undefined);
      assert.equal(await keys.delete("live"), false);
      assert.equal(await keys.delete("expired"), false);
      assert.equal(await keys.delete("absent"), false);
      assert.equal(await keys.claim("live", 1_000), true, "a deleted key can be claimed again");
    });

    it("prune drops only expired keys and answers how many", async () => {
      await keys.set("a", "1", 1_000);
      await keys.claim("b", 2_000);
      await keys.set("c", "3", 3_000);
      assert.equal(await keys.prune(), 0);
      clock.advance(2_000);
      assert.equal(await keys.prune(), 2);
      assert.equal(await keys.prune(), 0);
      assert.equal(await keys.get("c"), "3");
    });

    it("lets exactly one of many concurrent claims of a key win", async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => keys.claim("race", 1_000, `v${i}`)),
      );
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal(await keys.get("race"), `v${winner}`);
    });

    it("keeps arbitrary strings intact", async () => {
      const value = JSON.stringify({ status: 201, body: "héllo ✓ \u0000 end" });
      await keys.set("idem:ключ", value, 1_000);
      assert.equal(await keys.get("idem:ключ"), value);
    });
  });
}
