/**
 * The HTTP server: one Fastify instance, every body kept as raw bytes (verification needs the exact
 * bytes; each route parses what it trusts), one error envelope, and the route groups plugged in.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { type AdminRoutesOptions, adminRoutes } from "../admin/admin-routes.ts";
import { HttpError } from "../domain/errors.ts";
import { type WebhookRoutesOptions, webhookRoutes } from "../intake/webhook-routes.ts";
import { type HealthRoutesOptions, healthRoutes } from "../observability/health-routes.ts";
import type { Logger } from "../observability/logger.ts";
import { clientErrorResponse, errorHandler } from "./errors.ts";

export interface AppOptions {
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** Absent for `zen worker`: no intake routes. */
  readonly webhooks: Omit<WebhookRoutesOptions, "bodyLimitBytes"> | undefined;
  readonly health: HealthRoutesOptions;
  readonly admin: AdminRoutesOptions;
}

/** Node's default is 16 KiB of headers; providers send a few hundred bytes. */
const maxHeaderBytes = 16 * 1024;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes,
    maxParamLength: 200,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    http: { maxHeaderSize: maxHeaderBytes },
    clientErrorHandler: (err, socket) => {
      if (socket.writable) socket.end(clientErrorResponse(err as NodeJS.ErrnoException));
      else socket.destroy(err);
    },
  });

  // Raw bytes for every content type; routes parse after verifying.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.setErrorHandler(errorHandler(options.logger));
  app.setNotFoundHandler(async () => {
    throw new HttpError("not_found", "no such endpoint");
  });

  if (options.webhooks) {
    await app.register(webhookRoutes, { ...options.webhooks, bodyLimitBytes: options.bodyLimitBytes });
  }
  await app.register(healthRoutes, options.health);
  await app.register(adminRoutes, options.admin);
  return app;
}
