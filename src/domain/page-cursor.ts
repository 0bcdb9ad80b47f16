/**
 * Opaque page cursors for newest-first listings (the DLQ, approvals): the position (time, id) of the
 * last item of the previous page as base64url, so items added while paging do not shift later pages.
 */
import { HttpError } from "./errors.ts";

/** The opaque cursor for the item at (`atMs`, `id`). */
export function encodePageCursor(atMs: number, id: string | number): string {
  return Buffer.from(`${atMs}:${id}`, "utf8").toString("base64url");
}

/**
 * The (time, id) a cursor names; `idPattern` is the source of the id's regex (no anchors).
 * @throws HttpError `invalid_request` ("invalid <what> cursor") when `cursor` is not one we issued.
 */
export function decodePageCursor(
  cursor: string,
  idPattern: string,
  what: string,
): { atMs: number; id: string } {
  const match = new RegExp(`^(\\d{1,16}):(${idPattern})$`).exec(
    Buffer.from(cursor, "base64url").toString("utf8"),
  );
  if (!match?.[1] || !match[2]) throw new HttpError("invalid_request", `invalid ${what} cursor`);
  return { atMs: Number(match[1]), id: match[2] };
}
