/**
 * The approvals page cursor, shared by every ApprovalStore adapter: the position (createdAt, id) of
 * the last approval of the previous page, as an opaque base64url string. Pages are newest first, so
 * approvals created while paging do not shift later pages.
 */
import { decodePageCursor, encodePageCursor } from "../domain/page-cursor.ts";

export interface ApprovalPosition {
  readonly createdAt: number;
  readonly id: string;
}

/** The opaque cursor for `position`. */
export function encodeApprovalCursor(position: ApprovalPosition): string {
  return encodePageCursor(position.createdAt, position.id);
}

/** @throws HttpError `invalid_request` when `cursor` is not one we issued. */
export function decodeApprovalCursor(cursor: string): ApprovalPosition {
  const { atMs, id } = decodePageCursor(cursor, "ap_[0-9a-f]{32}", "approvals");
  return { createdAt: atMs, id };
}

/** True when `a` comes after `position` in newest-first order. */
export function isAfter(a: ApprovalPosition, position: ApprovalPosition): boolean {
  return a.createdAt < position.createdAt || (a.createdAt === position.createdAt && a.id < position.id);
}
