/**
 * The abort signal of one delivery attempt: aborts when its parent aborts or when the deadline passes,
 * whichever comes first, and lets go of both when disposed.
 *
 * Why not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 every `any()` result stays
 * registered on a long-lived parent (the worker's shutdown signal) until the parent aborts, so one
 * signal per delivery piles up for the life of the process (nodejs/node#55351; reproduced on 20.20:
 * 1M attempts → 1M retained signals). Here the listener and the timer are removed by `dispose()`,
 * which callers run in a `finally`; the timer is not unref'd, since it never outlives the attempt.
 */

export interface AttemptSignal {
  readonly signal: AbortSignal;
  /** Removes the parent listener and the timer. Call once the attempt is over (finally). Idempotent. */
  dispose(): void;
}

/**
 * @param parent aborts the attempt early (shutdown, caller); its `reason` is passed on.
 * @param timeoutMs deadline from now; the abort reason is a `TimeoutError` DOMException, as with
 *   `AbortSignal.timeout`.
 */
export function attemptSignal(parent: AbortSignal, timeoutMs: number): AttemptSignal {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const onParentAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener("abort", onParentAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException("The attempt deadline passed", "TimeoutError")),
    Math.max(0, timeoutMs),
  );
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener("abort", onParentAbort);
    },
  };
}
