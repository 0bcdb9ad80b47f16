/**
 * Slack's Events API handshake (providers.md §1.2): when a Request URL is saved, Slack posts a signed
 * `{"type":"url_verification","challenge":…}` and expects the challenge back. It is answered only
 * after `verify` has passed (Slack signs it like every event), and nothing is enqueued for it.
 */
import { HttpError } from "../../domain/errors.ts";

/** Slack's challenges are ~50 characters; anything far longer is not one. */
const maxChallengeLength = 512;

/**
 * The JSON body answering a `url_verification` request (`{"challenge":…}`, as Bolt answers), or
 * `undefined` for any other payload (an `event_callback` goes on through the pipeline).
 *
 * @throws HttpError `malformed_body` for a `url_verification` without a string `challenge`.
 */
export function slackEventsHandshake(parsedBody: unknown): { readonly challenge: string } | undefined {
  if (!isRecord(parsedBody) || parsedBody.type !== "url_verification") return undefined;
  const challenge = parsedBody.challenge;
  if (typeof challenge !== "string" || challenge === "" || challenge.length > maxChallengeLength) {
    throw new HttpError("malformed_body", "url_verification without a challenge string");
  }
  return { challenge };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
