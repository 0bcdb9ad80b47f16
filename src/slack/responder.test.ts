import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeSlack } from "../../test/fakes/fake-slack.ts";
import { loadConfig } from "../config/load-config.ts";
import { systemClock } from "../ports/clock.ts";
import { createSlackResponder } from "./responder.ts";

let slack: FakeSlack;
before(async () => {
  slack = await FakeSlack.start();
});
after(() => slack.close());

function responder(env: Record<string, string>) {
  return createSlackResponder(loadConfig({ env: { SLACK_API_URL: slack.url, ...env } }), systemClock);
}

describe("the default response_url responder", () => {
  it("posts the late answer as JSON to the command's response_url, with no token configured", async () => {
    const r = responder({ ZEN_EGRESS_ALLOW_PRIVATE: "true" });
    try {
      const url = slack.responseUrl();
      await r.respond(url, { text: "3 deliveries in the DLQ", responseType: "ephemeral" });
      assert.deepEqual(slack.responses(url), [
        { text: "3 deliveries in the DLQ", response_type: "ephemeral" },
      ]);
      assert.equal(slack.calls.length, 0, "no Web API method was called");
    } finally {
      await r.close();
    }
  });

  it("goes through the egress guard: a loopback response_url is refused unless allowed", async () => {
    const r = responder({});
    try {
      const url = slack.responseUrl();
      await assert.rejects(r.respond(url, { text: "late" }), (err: unknown) => {
        assert.equal((err as { reason?: string }).reason, "egress_denied");
        return true;
      });
      assert.deepEqual(slack.responses(url), []);
    } finally {
      await r.close();
    }
  });

  it("refuses a response_url outside hooks.slack.com and the API origin", async () => {
    const r = responder({ ZEN_EGRESS_ALLOW_PRIVATE: "true" });
    try {
      await assert.rejects(r.respond("https://attacker.example.com/collect", { text: "late" }));
    } finally {
      await r.close();
    }
  });
});
