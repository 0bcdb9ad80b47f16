/**
 * Jira over HTTP (DESIGN.md §3):
 *
 * | method & path | what | answer |
 * |---|---|---|
 * | `POST /jira/issue` | create an issue now on a tenant's Jira connection | 201 `{key,id,url}` |
 * | `POST /jira/webhook` | Jira webhook intake: tenant `default`, source `jira` (preset `jira`) | as `/webhooks/…` |
 *
 * `POST /jira/issue` sits behind `Authorization: Bearer` (`ZEN_API_TOKEN`, or `ZEN_ADMIN_TOKEN`; with
 * neither it answers 404, as if it did not exist). Body `{project, summary, description?, issueType?,
 * priority?, labels?, tenant?}`; `description` is plain text or light Markdown, sent as ADF. `tenant`
 * (default `default`) picks the connection (`providers.jira`; tenant `default` falls back to `JIRA_*`).
 * `Idempotency-Key` is honoured (idempotency-key.ts): the same key and body twice create one issue and
 * answer the same body, the replay with `idempotent-replayed: true`.
 *
 * Guards: the connection goes through the egress guard like every destination, and each create takes
 * a token from the tenant's Jira bucket (`delivery:<tenant>:jira`, shared with the jira destinations),
 * so the API cannot push Jira past the limit deliveries respect. The per-destination circuit breakers
 * are not consulted: the API is no destination, and its caller sees each failure at once anyway.
 *
 * Errors: our envelope. Jira's failures: 429, 5xx, timeouts, network → 503 `provider_unavailable`
 * (with `Retry-After`); anything it refused (400 with its field messages, 401 naming the credential
 * settings, 403, 404) → 502 `provider_error`. Credentials never appear in an answer.
 *
 * `POST /jira/webhook` is the intake itself (`intakeHandler`): `X-Hub-Signature` (`sha256=` HMAC of
 * the raw body) checked when the source has a secret, redeliveries deduped on
 * `X-Atlassian-Webhook-Identifier`, the issue key as the event's subject (intake/normalize.ts).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { jiraSourceId } from "../config/compile-env-defaults.ts";
import { toAdf } from "../destinations/jira/adf.ts";
import { JiraClient, type JiraIssueFields, jiraEgressPolicy } from "../destinations/jira/jira-client.ts";
import { isDeliveryFailure } from "../domain/classify.ts";
import { HttpError, RetryAfterError, retryAfterHeader } from "../domain/errors.ts";
import type { Intake } from "../intake/intake.ts";
import { intakeHandler, rateLimitHook } from "../intake/webhook-routes.ts";
import type { Metrics } from "../observability/metrics.ts";
import { withIdempotencyKey } from "./idempotency-key.ts";
import {
  defaultTicketTenant,
  idempotencyKeyHeader,
  jsonObjectBody,
  ProviderApi,
  type TicketRoutesOptions,
  ticketApiAuthorizer,
  ticketApiOff,
} from "./provider-api.ts";

export interface JiraRoutesOptions extends TicketRoutesOptions {
  /** `POST /jira/webhook` runs through it (with `metrics`); absent: no webhook route. */
  readonly intake?: Intake;
  readonly metrics?: Metrics;
}

/** Issue type when the request names none (Jira's default scheme has it in every project). */
const defaultIssueType = "Task";
/** Retry-After answered for a Jira 429 that named no delay: Jira's burst windows reopen within seconds. */
const fallbackRetryAfterSeconds = 5;

/** The body of `POST /jira/issue`. Unknown keys are refused, so a typo is not silently dropped. */
export const jiraIssueRequestSchema = z.strictObject({
  project: z
    .string()
    .regex(
      /^[A-Z][A-Z0-9_]{1,9}$/,
      "expected a Jira project key (an upper-case letter, then 1 to 9 of A-Z, 0-9, _)",
    ),
  summary: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(255, "must be at most 255 characters (Jira's limit)")
    .refine((v) => !/[\r\n]/.test(v), "must be one line (Jira refuses line breaks in a summary)"),
  description: z.string().max(30_000, "must be at most 30000 characters").optional(),
  issueType: z
    .string()
    .trim()
    .min(1)
    .max(60)
    .regex(/^[^\r\n]+$/, "must be one line")
    .optional(),
  priority: z
    .string()
    .trim()
    .min(1)
    .max(60)
    .regex(/^[^\r\n]+$/, "must be one line")
    .optional(),
  labels: z
    .array(
      z
        .string()
        .min(1, "must not be empty")
        .max(255, "must be at most 255 characters")
        .regex(/^\S+$/, "must not contain spaces (Jira would split it into several labels)"),
    )
    .max(50, "at most 50 labels")
    .optional(),
  tenant: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "expected a tenant id")
    .optional(),
});

export type JiraIssueRequest = z.infer<typeof jiraIssueRequestSchema>;

/** The answer of a created issue. */
export interface JiraIssueAnswer {
  readonly key: string;
  readonly id: string;
  /** `<site>/browse/<key>`. */
  readonly url: string;
}

/**
 * Parses and checks the body of `POST /jira/issue`.
 * @throws HttpError 415 (not JSON), 400 `malformed_body`, 400 `invalid_request` naming every bad field.
 */
export function parseJiraIssueRequest(request: FastifyRequest): { body: JiraIssueRequest; text: string } {
  const { object: parsed, text } = jsonObjectBody(request);
  const result = jiraIssueRequestSchema.safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys") {
        return `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}; expected project, summary, description, issueType, priority, labels, tenant`;
      }
      return `${path === "" ? "body" : path}: ${issue.message}`;
    });
    throw new HttpError("invalid_request", problems.join("; "));
  }
  return { body: result.data, text };
}

/** The create body Jira gets for a request. */
export function issueFieldsOf(body: JiraIssueRequest): JiraIssueFields {
  const description = body.description === undefined ? undefined : toAdf(body.description);
  return {
    project: { key: body.project },
    summary: body.summary,
    issuetype: { name: body.issueType ?? defaultIssueType },
    ...(description && description.content.length > 0 && { description }),
    ...(body.priority !== undefined && { priority: { name: body.priority } }),
    ...(body.labels !== undefined && { labels: [...new Set(body.labels)] }),
  };
}

/** A Jira failure as our HTTP error (see the file header); other errors pass through. */
export function jiraHttpError(err: unknown): unknown {
  if (!isDeliveryFailure(err)) return err;
  switch (err.reason) {
    case "rate_limited":
    case "retry_after":
    case "server_error":
    case "timeout":
    case "network_error":
    case "unknown": {
      const headers =
        err instanceof RetryAfterError
          ? retryAfterHeader(err.retryAfterMs)
          : err.reason === "rate_limited"
            ? retryAfterHeader(fallbackRetryAfterSeconds * 1000)
            : undefined;
      return new HttpError("provider_unavailable", err.message, { cause: err, ...(headers && { headers }) });
    }
    default:
      return new HttpError("provider_error", err.message, { cause: err });
  }
}

export async function jiraRoutes(app: FastifyInstance, options: JiraRoutesOptions): Promise<void> {
  const { config, keys, rateLimits, clock, intake, metrics } = options;

  if (intake && metrics) {
    const handle = intakeHandler(intake, metrics);
    app.post(
      "/jira/webhook",
      // Runs before the body is read: a flood is refused before any work is done.
      { onRequest: rateLimitHook(intake, () => [defaultTicketTenant, jiraSourceId]) },
      (request, reply) => {
        if (!intake.source(defaultTicketTenant, jiraSourceId)) {
          throw new HttpError(
            "not_found",
            `the Jira webhook is off: set JIRA_WEBHOOK_SECRET, or declare source "${jiraSourceId}" (preset jira) in tenant "${defaultTicketTenant}"`,
          );
        }
        return handle(defaultTicketTenant, jiraSourceId, request, reply);
      },
    );
  }

  const authorize = ticketApiAuthorizer(config);
  if (!authorize) {
    app.post("/jira/issue", async () => ticketApiOff());
    return;
  }
  const jira = new ProviderApi({
    config,
    provider: "jira",
    displayName: "Jira",
    connectionHint: "providers.jira, or JIRA_URL/JIRA_TOKEN for tenant default",
    connectionOf: (tenant) => tenant.providers.jira,
    createClient: (connection, connectorFactory) =>
      new JiraClient({ connection, connectorFactory, maxRetryAfterMs: config.queue.maxRetryAfterMs, clock }),
    deadlineMs: jiraEgressPolicy.attemptDeadlineMs,
    ...(rateLimits && { rateLimits }),
    ...(options.breakers && { breakers: options.breakers }),
    ...(options.connectorFactory && { connectorFactory: options.connectorFactory }),
  });
  app.addHook("onClose", () => jira.close());

  await app.register(async (api) => {
    api.addHook("onRequest", async (request) => authorize(request.headers.authorization));

    api.post("/jira/issue", async (request, reply) => {
      const { body, text } = parseJiraIssueRequest(request);
      const tenantId = body.tenant ?? defaultTicketTenant;
      // Before the idempotency claim: a tenant without Jira is a 404, not a remembered answer.
      const client = jira.client(tenantId);
      const key = idempotencyKeyHeader(request);
      const result = await withIdempotencyKey(keys, `jira-issue:${tenantId}`, key, text, async () => {
        const created = await jira.call(
          tenantId,
          (c, signal) => c.createIssue(issueFieldsOf(body), signal),
          jiraHttpError,
        );
        const answer: JiraIssueAnswer = {
          key: created.key,
          id: created.id,
          url: client.browseUrl(created.key),
        };
        return { status: 201, body: answer };
      });
      if (result.replayed) void reply.header("idempotent-replayed", "true");
      return reply.code(result.status).send(result.body);
    });
  });
}
