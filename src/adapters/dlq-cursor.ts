/**
 * The DLQ page cursor, shared by every queue adapter: the position (failedAt, id) of the last entry of the previous page, as an
 * opaque base64url string. Pages are ordered newest first, so entries added while paging do not shift
 * later pages.
 */
import { decodePageCursor, encodePageCursor } from "../domain/page-cursor.ts";

/** Where a page ended: the last entry's `failed_at` and row id. */
export interface DlqPosition {
  readonly failedAt: number;
  readonly id: number;
}

/** The opaque cursor for `position`. */
export function encodeDlqCursor(position: DlqPosition): string {
  return encodePageCursor(position.failedAt, position.id);
}

/** @throws HttpError `invalid_request` when `cursor` is not one we issued. */
export function decodeDlqCursor(cursor: string): DlqPosition {
  const { atMs, id } = decodePageCursor(cursor, "\\d{1,16}", "DLQ");
  return { failedAt: atMs, id: Number(id) };
}
