/** A delivery's short reference, shared by the destinations that write it where a retry can find it. */

/**
 * A short, stable name of one delivery (the same on every attempt): `zd-<first 16 hex of the
 * idempotency key>`. Jira writes it into what it adds to an issue; templates see it as `delivery.ref`.
 */
export function deliveryRef(idempotencyKey: string): string {
  return `zd-${idempotencyKey.slice(0, 16)}`;
}
