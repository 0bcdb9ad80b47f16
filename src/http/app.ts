/**
 * The HTTP server: one Fastify instance, every body kept as raw bytes (verification needs the exact
 * bytes; each route parses what it trusts), one error envelope, and the route groups plugged in.
 */
import type { Socket } from "node:net";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { type AdminRoutesOptions, adminRoutes } from "../admin/admin-routes.ts";
import { type ApprovalRoutesOptions, approvalRoutes } from "../admin/approval-routes.ts";
import { HttpError, httpErrorStatus } from "../domain/errors.ts";
import { type WebhookRoutesOptions, webhookRoutes } from "../intake/webhook-routes.ts";
import { type HealthRoutesOptions, healthRoutes } from "../observability/health-routes.ts";
import type { Logger } from "../observability/logger.ts";
import { type SlackRoutesOptions, slackRoutes } from "../slack/slack-routes.ts";
import { type JiraRoutesOptions, jiraRoutes } from "../tickets/jira-routes.ts";
import { type ServiceNowRoutesOptions, serviceNowRoutes } from "../tickets/servicenow-routes.ts";
import { clientErrorResponse, errorBody, errorHandler, rawErrorResponse } from "./errors.ts";

export interface AppOptions {
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** Absent for `zen worker`: no intake routes. */
  readonly webhooks: Omit<WebhookRoutesOptions, "bodyLimitBytes"> | undefined;
  readonly health: HealthRoutesOptions;
  readonly admin: AdminRoutesOptions;
  /** The ServiceNow ticket API (`/servicenow/ticket…`); absent for `zen worker`. */
  readonly servicenow?: ServiceNowRoutesOptions;
  /** `POST /jira/issue` and the `POST /jira/webhook` intake; absent for `zen worker`. */
  readonly jira?: JiraRoutesOptions;
  /** `/admin/approvals…`; absent when no tenant has an approvals policy. */
  readonly approvals?: ApprovalRoutesOptions;
  /** `POST /slack/events`, `/slack/commands`, `/slack/interactions`; absent for `zen worker`. */
  readonly slack?: Omit<SlackRoutesOptions, "bodyLimitBytes">;
}

/** Node's default is 16 KiB of headers; providers send a few hundred bytes. */
const maxHeaderBytes = 16 * 1024;
/** Path segments longer than this are refused by the router (404): our ids are at most 63 characters. */
const maxParamLength = 200;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const onError = errorHandler(options.logger);
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes,
    routerOptions: { maxParamLength },
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // Node's own Host check answers an empty 400; `refuseBadFraming` answers it in our envelope.
    http: { maxHeaderSize: maxHeaderBytes, requireHostHeader: false },
    // Router errors (bad percent-encoding, over-long path segments) skip the error handler otherwise.
    frameworkErrors: (err, request, reply) => onError(err, request, reply),
    clientErrorHandler: (err, socket) => {
      // Like Node's default: never write into a response already on the wire, it would corrupt it.
      if (socket.writable && !responseInFlight(socket)) socket.end(clientErrorResponse(err));
      else socket.destroy(err);
    },
  });
  answerOutsideFastify(app);
  // Callback style: an async hook costs a promise and a microtask hop on every request.
  app.addHook("onRequest", (request, _reply, done) => {
    try {
      refuseBadFraming(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });

  // Raw bytes for every content type; routes parse after verifying.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.setErrorHandler(onError);
  app.setNotFoundHandler(async () => {
    throw new HttpError("not_found", "no such endpoint");
  });

  if (options.webhooks) {
    await app.register(webhookRoutes, { ...options.webhooks, bodyLimitBytes: options.bodyLimitBytes });
  }
  await app.register(healthRoutes, options.health);
  await app.register(adminRoutes, options.admin);
  if (options.servicenow) await app.register(serviceNowRoutes, options.servicenow);
  if (options.jira) await app.register(jiraRoutes, options.jira);
  if (options.approvals) await app.register(approvalRoutes, options.approvals);
  if (options.slack) {
    await app.register(slackRoutes, { ...options.slack, bodyLimitBytes: options.bodyLimitBytes });
  }
  return app;
}

/**
 * Requests Node answers by itself, without an error envelope, unless the server listens for them:
 * an `Expect` other than `100-continue` (an empty 417, here with the envelope) and `CONNECT` (the socket is just dropped).
 */
function answerOutsideFastify(app: FastifyInstance): void {
  app.server.on("checkExpectation", (_request, response) => {
    const body = JSON.stringify(
      errorBody("expectation_failed", "the Expect header is not supported (only 100-continue)"),
    );
    response.writeHead(httpErrorStatus.expectation_failed, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      connection: "close",
    });
    response.end(body);
  });
  app.server.on("connect", (_request, socket: Socket) => {
    socket.end(rawErrorResponse("not_found", "no such endpoint (this server is not a proxy)"));
  });
}

/**
 * Framing Node's parser lets through but we cannot honour: an HTTP/1.1 request without `Host` (RFC
 * 9112 §3.2 requires a 400), and transfer codings other than `chunked` (Node passes e.g. gzip-coded
 * bytes on as if they were the body; verifying or parsing them would be wrong either way).
 */
function refuseBadFraming(request: FastifyRequest): void {
  if (request.raw.httpVersion === "1.1" && request.headers.host === undefined) {
    throw new HttpError("invalid_request", "an HTTP/1.1 request must carry a Host header");
  }
  const codings = request.headers["transfer-encoding"];
  if (codings !== undefined && codings.trim().toLowerCase() !== "chunked") {
    throw new HttpError("invalid_request", "only the chunked transfer coding is supported");
  }
}

/** Whether a response on this connection has started writing (Node's `socket._httpMessage`). */
function responseInFlight(socket: Socket): boolean {
  const message = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  return message?.headersSent === true;
}
