/**
 * The DLQ page cursor, shared by every queue adapter: the position (failedAt, id) of the last entry of the previous page, as an
 * opaque base64url string. Pages are ordered newest first, so entries added while paging do not shift
 * later pages.
 */
import { HttpError } from "../domain/errors.ts";

/** Where a page ended: the last entry's `failed_at` and row id. */
export interface DlqPosition {
  readonly failedAt: number;
  readonly id: number;
}

/** The opaque cursor for `position`. */
export function encodeDlqCursor(position: DlqPosition): string {
  return Buffer.from(`${position.failedAt}:${position.id}`, "utf8").toString("base64url");
}

/** @throws HttpError `invalid_request` when `cursor` is not one we issued. */
export function decodeDlqCursor(cursor: string): DlqPosition {
  const match = /^(\d{1,16}):(\d{1,16})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) throw new HttpError("invalid_request", "invalid DLQ cursor");
  return { failedAt: Number(match[1]), id: Number(match[2]) };
}
