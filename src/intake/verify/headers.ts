/**
 * Reading the headers a verifier trusts. Node lower-cases names and hands repeated headers over as
 * arrays (`headersDistinct`, some frameworks); a repeated signature, timestamp or id header is
 * ambiguous, so it is refused instead of picking one copy.
 */
import { HttpError } from "../../domain/errors.ts";

/** Request headers as Node delivers them: lower-case names; arrays for repeated headers. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The single value of header `name` (already lower-case), or `undefined` when it is absent or empty.
 *
 * @throws HttpError `malformed_header` when the header is repeated (an array of two or more values).
 */
export function singleHeader(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined || typeof value === "string") return value === "" ? undefined : value;
  if (value.length > 1) {
    throw new HttpError("malformed_header", `header ${name} is repeated; send it exactly once`);
  }
  const only = value[0];
  return only === "" ? undefined : only;
}

/** Lower-cases a configured header name once, at compile time. */
export function headerKey(name: string): string {
  return name.toLowerCase();
}
