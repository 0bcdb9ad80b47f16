/**
 * One error envelope for every HTTP answer: `{"error":{"code","message"}}` with the code's status.
 * Framework errors (body limit, bad URL, header overflow) are mapped into the same vocabulary so a
 * caller never sees a second format.
 */
import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { HttpError, type HttpErrorCode, httpErrorStatus } from "../domain/errors.ts";
import type { Logger } from "../observability/logger.ts";

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Fastify's own error codes → ours. */
const frameworkCodes: Record<string, HttpErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "body_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_content_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_request",
  FST_ERR_CTP_EMPTY_JSON_BODY: "malformed_body",
  FST_ERR_CTP_INVALID_JSON_BODY: "malformed_body",
  FST_ERR_BAD_URL: "invalid_request",
  // Longer than any id we issue (ids are ≤ 63 characters): it cannot name anything.
  FST_ERR_MAX_PARAM_LENGTH: "not_found",
  FST_ERR_ASYNC_CONSTRAINT: "invalid_request",
  FST_ERR_VALIDATION: "invalid_request",
};

const frameworkMessages: Partial<Record<HttpErrorCode, string>> = {
  body_too_large: "request body exceeds the size limit",
  unsupported_content_type: "content type is not accepted",
  invalid_request: "request is malformed",
  malformed_body: "request body is malformed",
  not_found: "no such endpoint",
};

/** Normalizes any thrown value into (status, body, headers). Unknown errors become 500 without detail. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const fastifyError = err as Partial<FastifyError> | undefined;
  const mapped = fastifyError?.code ? frameworkCodes[fastifyError.code] : undefined;
  if (mapped) return new HttpError(mapped, frameworkMessages[mapped] ?? "request refused", { cause: err });
  const status = fastifyError?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    if (status === 413) return new HttpError("body_too_large", "request body exceeds the size limit");
    if (status === 415) return new HttpError("unsupported_content_type", "content type is not accepted");
    return new HttpError("invalid_request", "request is malformed", { cause: err });
  }
  return new HttpError("internal_error", "internal error; see the service log", { cause: err });
}

export function errorHandler(logger: Logger) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const httpError = toHttpError(err);
    if (httpError.status >= 500) logger.error({ err, url: request.url }, "request failed");
    void reply
      .code(httpError.status)
      .headers(httpError.headers)
      .send(errorBody(httpError.code, httpError.message));
  };
}

export function send(reply: FastifyReply, code: HttpErrorCode, message: string): FastifyReply {
  return reply.code(httpErrorStatus[code]).send(errorBody(code, message));
}

/**
 * A complete HTTP/1.1 error response as text, for sockets Fastify never sees a request on (parser
 * errors, CONNECT). Always closes the connection: after a framing error the stream cannot be trusted.
 */
export function rawErrorResponse(code: HttpErrorCode, message: string): string {
  const status = httpErrorStatus[code];
  const body = JSON.stringify(errorBody(code, message));
  const reason = STATUS_CODES[status] ?? "Error";
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Raw-socket answer for errors Node's parser raises before Fastify sees a request (e.g. huge headers). */
export function clientErrorResponse(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return rawErrorResponse("headers_too_large", "request headers are too large");
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return rawErrorResponse("request_timeout", "the request was not received in time");
    default:
      return rawErrorResponse("invalid_request", "request is malformed");
  }
}
