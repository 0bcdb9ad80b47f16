/**
 * Route templates end to end, through the real interfaces only: GitHub-signed webhooks posted to the
 * real intake, the real SQLite queue and worker, and what a signed webhook sink and a fake Jira
 * received over real HTTP.
 *
 * Two routes send the same source's events to the same two destinations: route A (`push` events)
 * overrides the webhook's `body` and Jira's `summary`; route B (`issues` events) does not. A `push`
 * is rendered with route A's templates, an `issues` event with the destinations' own (the webhook's
 * canonical JSON, Jira's own summary template): the route is found again at delivery time from the
 * event alone. The route's body still goes through both redaction layers and is what the Standard
 * Webhooks signature covers.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { FakeJira } from "./fakes/fake-jira.ts";
import { WebhookSink } from "./fakes/webhook-sink.ts";
import { startTestService, type TestService } from "./support/service.ts";
import { acceptSignedGithub, waitFor } from "./support/signed.ts";

const githubSecret = "templates-e2e-github-secret-not-real";
const hookSecret = `whsec_${Buffer.from("templates-e2e-hook-secret-not-real").toString("base64")}`;
const jiraEmail = "zen-templates@example.com";
const jiraToken = "jira-templates-e2e-token-not-real";

function yaml(hookUrl: string): string {
  return [
    "tenants:",
    "  - id: acme",
    "    providers:",
    "      jira: { url: env:JIRA_FAKE_URL, email: zen-templates@example.com, token: env:TEMPLATES_JIRA_TOKEN }",
    "    sources:",
    "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
    "    destinations:",
    `      - { id: ops-hook, type: webhook, url: "${hookUrl}", secret: env:HOOK_SECRET }`,
    "      - id: tickets",
    "        type: jira",
    "        project: OPS",
    "        templates: { summary: 'own summary: {{ event.type }}' }",
    "    routes:",
    "      - from: [gh]",
    "        when: { type: push }",
    "        to: [ops-hook, tickets]",
    "        templates:",
    "          ops-hook:",
    '            body: \'{"route": "A", "ref": {{ event.data.ref | json }}, "pusher": {{ event.data.pusher.email | json }}, "delivery": {{ delivery.ref | json }}}\'',
    "          tickets:",
    "            summary: 'route A push to {{ event.data.ref }}'",
    "      - { from: [gh], when: { type: issues }, to: [ops-hook, tickets] }",
  ].join("\n");
}

describe("route templates end to end (GitHub → webhook sink, Jira)", () => {
  let hook: WebhookSink;
  let jira: FakeJira;
  let service: TestService;

  async function deliver(eventId: string, type: string, data: unknown): Promise<void> {
    const before = hook.requests.length;
    const issuesBefore = jira.issues.length;
    await acceptSignedGithub({
      baseUrl: service.url,
      tenant: "acme",
      source: "gh",
      secret: githubSecret,
      eventId,
      type,
      data,
    });
    await waitFor(
      `${eventId} delivered to the sink and Jira`,
      () => hook.requests.length > before && jira.issues.length > issuesBefore,
      20_000,
    );
  }

  before(async () => {
    hook = await WebhookSink.start();
    jira = await FakeJira.start({ email: jiraEmail, token: jiraToken, projects: [{ key: "OPS" }] });
    service = await startTestService({
      yaml: yaml(hook.url),
      env: {
        GH_SECRET: githubSecret,
        HOOK_SECRET: hookSecret,
        JIRA_FAKE_URL: jira.url,
        TEMPLATES_JIRA_TOKEN: jiraToken,
      },
    });
    await deliver("push-1", "push", { ref: "refs/heads/main", pusher: { email: "octo@example.com" } });
    await deliver("issues-1", "issues", { action: "opened", issue: { number: 7, title: "flaky build" } });
  });

  after(async () => {
    await service?.close();
    await Promise.all([hook?.close(), jira?.close()]);
  });

  it("route A's body template renders route A's events, redacted and signed", () => {
    const request = hook.requests.find(
      (r) => r.headers["webhook-id"] !== undefined && r.body.includes('"A"'),
    );
    assert.ok(request, hook.requests.map((r) => r.body).join("\n"));
    const body = JSON.parse(request.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ["route", "ref", "pusher", "delivery"]);
    assert.equal(body.route, "A");
    assert.equal(body.ref, "refs/heads/main");
    // Layer 1 redacted the e-mail before the template saw it.
    assert.equal(body.pusher, "[REDACTED_EMAIL]");
    assert.match(String(body.delivery), /^zd-[0-9a-f]{16}$/);
    const verified = new Webhook(hookSecret).verify(request.body, {
      "webhook-id": String(request.headers["webhook-id"]),
      "webhook-timestamp": String(request.headers["webhook-timestamp"]),
      "webhook-signature": String(request.headers["webhook-signature"]),
    });
    assert.deepEqual(verified, body);
  });

  it("route B's events to the same webhook get the destination's own rendering (the canonical event)", () => {
    const bodies = hook.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    assert.equal(bodies.length, 2);
    const issue = bodies.find((b) => b.type === "issues");
    assert.ok(issue, JSON.stringify(bodies));
    assert.equal(issue.route, undefined);
    assert.equal(issue.id, "issues-1");
    assert.deepEqual(issue.data, { action: "opened", issue: { number: 7, title: "flaky build" } });
    assert.equal(bodies.filter((b) => b.route === "A").length, 1);
  });

  it("Jira: route A's summary for the push; the destination's own summary for the issues event", () => {
    const summaries = jira.issues.map((i) => i.summary).sort();
    assert.deepEqual(summaries, ["own summary: issues", "route A push to refs/heads/main"]);
  });
});
