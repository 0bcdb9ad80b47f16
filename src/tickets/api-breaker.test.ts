import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CircuitBreakers } from "../delivery/circuit-breakers.ts";
import { PermanentError, RetryableError } from "../domain/errors.ts";
import { FakeClock } from "../ports/clock.ts";
import { throughBreaker } from "./api-breaker.ts";

describe("throughBreaker (ticket APIs)", () => {
  it("opens after provider failures and then answers 503 with Retry-After without calling", async () => {
    const breakers = new CircuitBreakers({ clock: new FakeClock() });
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new RetryableError("server_error", "HTTP 503"));
    };
    for (let i = 0; i < 5; i++)
      await assert.rejects(throughBreaker(breakers, "acme/jira-api", "Jira", failing));
    assert.equal(calls, 5);
    await assert.rejects(throughBreaker(breakers, "acme/jira-api", "Jira", failing), (err: unknown) => {
      assert.equal((err as { code?: string }).code, "provider_unavailable");
      assert.equal((err as { headers?: Record<string, string> }).headers?.["retry-after"], "60");
      return true;
    });
    assert.equal(calls, 5, "not called while open");
  });

  it("does not count client errors, and passes results through", async () => {
    const breakers = new CircuitBreakers({ clock: new FakeClock() });
    for (let i = 0; i < 10; i++) {
      await assert.rejects(
        throughBreaker(breakers, "acme/jira-api", "Jira", () =>
          Promise.reject(new PermanentError("validation_failed", "HTTP 400")),
        ),
      );
    }
    assert.equal(await throughBreaker(breakers, "acme/jira-api", "Jira", async () => 42), 42);
    assert.equal(await throughBreaker(undefined, "acme/jira-api", "Jira", async () => 7), 7);
  });
});
