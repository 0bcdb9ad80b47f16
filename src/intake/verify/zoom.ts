/**
 * Zoom's endpoint URL validation challenge: Zoom proves we hold the secret token by asking for an
 * HMAC of a random `plainToken`. The challenge request is signed like any other Zoom event, so it
 * is answered only after `verify` has passed.
 */
import { createHmac } from "node:crypto";
import { HttpError } from "../../domain/errors.ts";

/** The JSON body to answer a validation challenge with (status 200). A type, not an interface, so it is a plain string record. */
export type ZoomUrlValidationResponse = {
  readonly plainToken: string;
  /** hex HMAC-SHA256(secret token, plainToken) */
  readonly encryptedToken: string;
};

/**
 * The answer to Zoom's `endpoint.url_validation` event, or `undefined` when `parsedBody` is any
 * other event.
 *
 * @param secret the app's Secret Token (the first configured secret).
 * @throws HttpError `malformed_body` when it is a validation event without a string `payload.plainToken`.
 */
export function zoomUrlValidationResponse(
  parsedBody: unknown,
  secret: string,
): ZoomUrlValidationResponse | undefined {
  if (!isRecord(parsedBody) || parsedBody.event !== "endpoint.url_validation") return undefined;
  const payload = parsedBody.payload;
  const plainToken = isRecord(payload) ? payload.plainToken : undefined;
  if (typeof plainToken !== "string" || plainToken === "") {
    throw new HttpError(
      "malformed_body",
      "endpoint.url_validation event without a payload.plainToken string",
    );
  }
  return {
    plainToken,
    encryptedToken: createHmac("sha256", secret).update(plainToken, "utf8").digest("hex"),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
