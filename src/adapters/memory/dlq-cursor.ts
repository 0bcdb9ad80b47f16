/**
 * The in-memory queue's DLQ page cursor: position (failedAt, id) of the previous page's last entry,
 * base64url-encoded. Same shape as the SQLite adapter's, kept separate so neither adapter depends on
 * the other.
 */
import { HttpError } from "../../domain/errors.ts";

/** Where a page ended: the last entry's `failedAt` and numeric id. */
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
