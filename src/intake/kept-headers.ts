/**
 * Which request headers travel with the event (for routing predicates like `headers.x-github-event`
 * and for templates). Anything that can carry a credential or a signature is dropped here, so it is
 * never stored, forwarded or logged.
 */

const maxKeptHeaders = 32;
const maxHeaderValueLength = 512;

/** Name fragments that mark a header as sensitive. */
const sensitive = /auth|cookie|token|secret|signature|hmac|key|password|session|forwarded|x-real-ip/i;

export function keptHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  const kept: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (count >= maxKeptHeaders) break;
    if (typeof value !== "string" || sensitive.test(name)) continue;
    kept[name] = value.length > maxHeaderValueLength ? value.slice(0, maxHeaderValueLength) : value;
    count++;
  }
  return kept;
}
