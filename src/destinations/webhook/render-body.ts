/**
 * The outbound webhook body when the destination has no `body` template (templates/defaults.ts has
 * the equivalent template). The destination renders it from the redacted event and redacts the
 * result again before signing (redaction/redact-delivery.ts).
 */
import type { ZenEvent } from "../../domain/event.ts";

/**
 * The canonical event as JSON: `{ id, tenant, source, type, category?, severity?, resource?, subject?,
 * data, receivedAt, fingerprint? }`. `event.headers` (intake request headers kept for routing) is left
 * out: it describes our intake, not the event, and is not the receiver's business.
 * @throws TypeError when `data` cannot be serialized (BigInt, cycles).
 */
export function renderBody(event: ZenEvent): string {
  return JSON.stringify({
    id: event.id,
    tenant: event.tenant,
    source: event.source,
    type: event.type,
    category: event.category,
    severity: event.severity,
    resource: event.resource,
    subject: event.subject,
    data: event.data,
    receivedAt: event.receivedAt,
    fingerprint: event.fingerprint,
  });
}
