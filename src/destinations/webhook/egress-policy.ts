/**
 * How hard an outbound webhook may hold on to us: every limit of the per-destination undici `Agent`
 * and of one attempt, in one named policy. A slow or hostile receiver costs at most one attempt
 * deadline and `connectionsPerHost` sockets, never a stuck worker.
 */
import { Agent, buildConnector, type Dispatcher } from "undici";

export interface WebhookEgressPolicy {
  /** TCP (+TLS) connect must finish within this. */
  readonly connectTimeoutMs: number;
  /** After the request is sent, the response headers must arrive within this. */
  readonly headersTimeoutMs: number;
  /** Longest silence between two chunks of the response body. */
  readonly bodyTimeoutMs: number;
  /**
   * Hard deadline of one attempt, connect to last body byte. A destination's `timeoutMs` may only
   * shorten it. The queue's `leaseMs` must exceed it (the worker checks).
   */
  readonly attemptDeadlineMs: number;
  /** Concurrent sockets per origin: a burst to one receiver queues here instead of opening hundreds. */
  readonly connectionsPerHost: number;
  /** Idle keep-alive when the server sends no `Keep-Alive: timeout=` hint. */
  readonly keepAliveTimeoutMs: number;
  /** Upper bound on a server's keep-alive hint. */
  readonly keepAliveMaxTimeoutMs: number;
  /** Response bytes read at most; beyond this the connection is dropped (the body is discarded anyway). */
  readonly maxResponseBodyBytes: number;
  /** Response bytes kept from an error body for `lastError` (then cut to one 200-char line). */
  readonly errorSnippetBytes: number;
}

/**
 * Wall clock: an attempt against a dead host fails within 10 s (connect), a hung receiver within
 * 10 s of sending (headers), and nothing takes longer than 30 s in total.
 *
 * Why idle keep-alive is 4 s without a server hint rather than 90 s: load balancers close idle
 * connections silently (AWS ALB 60 s, nginx 75 s); reusing such a socket for a POST fails with a
 * reset that costs a charged attempt. Servers that advertise a longer idle time get up to 90 s.
 * Why the body gap is 10 s: the 30 s deadline already bounds the whole read, so a 30 s gap timeout
 * could never fire; 10 s names the failure (`BodyTimeoutError`) sooner.
 */
export const webhookEgressPolicy: WebhookEgressPolicy = Object.freeze({
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  attemptDeadlineMs: 30_000,
  connectionsPerHost: 10,
  keepAliveTimeoutMs: 4_000,
  keepAliveMaxTimeoutMs: 90_000,
  maxResponseBodyBytes: 64 * 1024,
  errorSnippetBytes: 1024,
});

/**
 * Builds the socket connector. The seam for the egress guard (`destinations/egress/egress-guard.ts`,
 * `ZEN_EGRESS_ALLOW_PRIVATE`, `ZEN_EGRESS_ALLOW_CIDRS`): `createDestination` always wraps the
 * connector in the guard, which refuses private/loopback/metadata addresses after DNS resolution,
 * the only place the check cannot be bypassed by DNS rebinding.
 */
export type ConnectorFactory = (options: buildConnector.BuildOptions) => buildConnector.connector;

/** Builds the dispatcher (connection pool) of one destination; tests may swap in a MockAgent. */
export type DispatcherFactory = (options: Agent.Options) => Dispatcher;

export const defaultConnectorFactory: ConnectorFactory = (options) => buildConnector(options);
export const defaultDispatcherFactory: DispatcherFactory = (options) => new Agent(options);

/** The undici `Agent` options that implement `policy`. */
export function agentOptions(policy: WebhookEgressPolicy, connectorFactory: ConnectorFactory): Agent.Options {
  return {
    connect: connectorFactory({ timeout: policy.connectTimeoutMs }),
    headersTimeout: policy.headersTimeoutMs,
    bodyTimeout: policy.bodyTimeoutMs,
    connections: policy.connectionsPerHost,
    keepAliveTimeout: policy.keepAliveTimeoutMs,
    keepAliveMaxTimeout: policy.keepAliveMaxTimeoutMs,
    // No redirect or retry interceptors on purpose: a 3xx is a permanent failure, and the queue owns
    // retries (backoff, attempt accounting, DLQ).
  };
}
