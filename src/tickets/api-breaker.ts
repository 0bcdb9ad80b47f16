/**
 * The ticket APIs (`POST /jira/issue`, `/servicenow/ticket…`) go through a circuit breaker per tenant
 * and provider, as deliveries do per destination: while Jira or ServiceNow keeps failing, callers get
 * a fast 503 with `Retry-After` instead of piling more calls onto a struggling provider.
 */
import type { BreakerKey, CircuitBreakers } from "../delivery/circuit-breakers.ts";
import { type DeliveryReason, HttpError, retryAfterHeader } from "../domain/errors.ts";

/** Runs `call` if the breaker admits it and tells the breaker how it went (provider errors carry a `reason`). */
export async function throughBreaker<T>(
  breakers: CircuitBreakers | undefined,
  key: BreakerKey,
  provider: string,
  call: () => Promise<T>,
): Promise<T> {
  if (!breakers) return call();
  const decision = breakers.admit(key);
  if (!decision.allowed) {
    throw new HttpError(
      "provider_unavailable",
      `${provider} keeps failing; calls are paused by its circuit breaker`,
      {
        headers: retryAfterHeader(decision.retryAfterMs),
      },
    );
  }
  try {
    const value = await call();
    breakers.record(decision.pass, { kind: "success" });
    return value;
  } catch (err) {
    const reason = (err as { reason?: DeliveryReason } | null)?.reason;
    if (reason) breakers.record(decision.pass, { kind: "failure", reason });
    else breakers.release(decision.pass);
    throw err;
  }
}
