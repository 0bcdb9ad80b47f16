/**
 * The approvals page cursor, shared by every ApprovalStore adapter: the position (createdAt, id) of
 * the last approval of the previous page, as an opaque base64url string. Pages are newest first, so
 * approvals created while paging do not shift later pages.
 */
import { HttpError } from "../domain/errors.ts";

export interface ApprovalPosition {
  readonly createdAt: number;
  readonly id: string;
}

/** The opaque cursor for `position`. */
export function encodeApprovalCursor(position: ApprovalPosition): string {
  return Buffer.from(`${position.createdAt}:${position.id}`, "utf8").toString("base64url");
}

/** @throws HttpError `invalid_request` when `cursor` is not one we issued. */
export function decodeApprovalCursor(cursor: string): ApprovalPosition {
  const match = /^(\d{1,16}):(ap_[0-9a-f]{32})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match?.[1] || !match[2]) throw new HttpError("invalid_request", "invalid approvals cursor");
  return { createdAt: Number(match[1]), id: match[2] };
}

/** True when `a` comes after `position` in newest-first order. */
export function isAfter(a: ApprovalPosition, position: ApprovalPosition): boolean {
  return a.createdAt < position.createdAt || (a.createdAt === position.createdAt && a.id < position.id);
}
