/**
 * HTTP face of the intake: `POST /webhooks/{tenant}/{source}` and the seed-compatible
 * `POST /webhooks/generic` (tenant `default`, source `generic`, secret `WEBHOOK_SECRET`).
 * Bodies arrive as raw Buffers (see http/app.ts); everything else happens in Intake.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from "fastify";
import { HttpError } from "../domain/errors.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Intake, IntakeResult } from "./intake.ts";

export interface WebhookRoutesOptions {
  readonly intake: Intake;
  readonly metrics: Metrics;
  readonly bodyLimitBytes: number;
}

/** Ids are slugs; anything else (dots, slashes, encoded tricks) can only be an unknown tenant/source. */
const idPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function publicUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${request.url}`;
}

/**
 * The request's headers with repeats kept apart (an array for a header sent twice). Node's
 * `request.headers` joins most repeated headers with ", " and silently drops repeats of others
 * (`content-type`, `authorization`), which would hide a doubled signature, id or content type from
 * the checks that refuse them as ambiguous.
 */
export function distinctHeaders(request: FastifyRequest): Record<string, string | string[]> {
  // Walks the raw name/value list once instead of Node's `headersDistinct` (an array per header) plus
  // a copy: this runs for every request. Same result: names lower-cased, every repeat kept, in order.
  const raw = request.raw.rawHeaders;
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (!Object.hasOwn(headers, name)) headers[name] = value;
    else {
      const seen = headers[name] as string | string[];
      if (Array.isArray(seen)) seen.push(value);
      else headers[name] = [seen, value];
    }
  }
  return headers;
}

/** Our answers are small fixed shapes: serialized here, so Fastify's serializer is skipped. */
const jsonType = "application/json; charset=utf-8";

function reply(result: IntakeResult, res: FastifyReply): FastifyReply {
  switch (result.status) {
    case "accepted":
      return res
        .code(200)
        .header("content-type", jsonType)
        .send(
          `{"status":"accepted","eventId":${JSON.stringify(result.eventId)},"deliveries":${result.deliveries}}`,
        );
    case "duplicate":
      return res
        .code(200)
        .header("content-type", jsonType)
        .send(`{"status":"duplicate","eventId":${JSON.stringify(result.eventId)}}`);
    case "handshake":
      return res.code(200).send(result.body);
    default: {
      const _exhaustive: never = result;
      return _exhaustive;
    }
  }
}

/** Answers one intake request for `tenant`/`source`; the HTTP side of every intake route. */
export type IntakeHandler = (
  tenant: string,
  source: string,
  request: FastifyRequest,
  res: FastifyReply,
) => Promise<FastifyReply>;

/**
 * The handler behind the intake routes: the raw request (distinct headers, exact body bytes, public
 * URL) through `Intake.accept`, the answer, and the latency metric. Also serves aliases outside
 * `/webhooks` (`POST /jira/webhook`).
 */
export function intakeHandler(intake: Intake, metrics: Metrics): IntakeHandler {
  return async (tenant, source, request, res) => {
    const started = process.hrtime.bigint();
    let outcome = "error";
    try {
      const result = await intake.accept({
        tenant,
        source,
        headers: distinctHeaders(request),
        rawBody: request.body as Buffer | undefined,
        url: publicUrl(request),
      });
      outcome = result.status;
      return reply(result, res);
    } finally {
      metrics.intakeLatency.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

/**
 * The intake rate limit as an `onRequest` hook. Callback style, and no promise at all for the common
 * source without a limit: an async hook costs a promise and a microtask hop on every request.
 */
export function rateLimitHook(
  intake: Intake,
  ids: (request: FastifyRequest) => readonly [tenant: string, source: string],
): onRequestHookHandler {
  return (request, _reply, done) => {
    const [tenant, source] = ids(request);
    if (!intake.limitsRate(tenant, source)) {
      done();
      return;
    }
    intake.admitRate(tenant, source).then(() => done(), done);
  };
}

export async function webhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions): Promise<void> {
  const { intake, metrics, bodyLimitBytes } = options;
  const handle = intakeHandler(intake, metrics);

  app.post(
    "/webhooks/generic",
    { bodyLimit: bodyLimitBytes, onRequest: rateLimitHook(intake, () => ["default", "generic"]) },
    (request, res) => handle("default", "generic", request, res),
  );

  app.post<{ Params: { tenant: string; source: string } }>(
    "/webhooks/:tenant/:source",
    {
      bodyLimit: bodyLimitBytes,
      // Runs before the body is read: a flooding tenant is refused before any work is done.
      onRequest: rateLimitHook(intake, (request) => {
        const { tenant, source } = request.params as { tenant: string; source: string };
        return [tenant, source];
      }),
    },
    (request, res) => {
      const { tenant, source } = request.params;
      // Checked tenant first, so `/webhooks/nope/` says the tenant is unknown, not its (empty) source.
      if (!idPattern.test(tenant) || !intake.knowsTenant(tenant)) {
        throw new HttpError("unknown_tenant", "no such tenant is configured");
      }
      if (!idPattern.test(source)) {
        throw new HttpError("unknown_source", "no such source is configured for this tenant");
      }
      return handle(tenant, source, request, res);
    },
  );
}
