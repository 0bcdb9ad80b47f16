/**
 * The egress guard (SSRF). Threat: a tenant points a destination at the service's own network: the
 * loopback admin port, private services, or a cloud metadata endpoint that hands out credentials,
 * either directly (`http://169.254.169.254/`) or through a hostname whose DNS answer changes between
 * a check and the connection (DNS rebinding).
 *
 * Authoritative check: here, in the socket connector undici calls for every new connection. The
 * hostname is resolved once, every answer is checked against `blocked-ranges.ts` and the operator's
 * allowances, and the socket is opened to the checked IP literal, so nothing resolves the name again.
 * A refusal fails the connect before any socket exists, as `PermanentError` `egress_denied` (the
 * delivery goes to the DLQ with that reason). Any check of the URL at config time is advisory only.
 */
import type { LookupAddress } from "node:dns";
import { ADDRCONFIG, promises as dnsPromises } from "node:dns";
import { isIP, type Socket, type TcpNetConnectOpts } from "node:net";
import { buildConnector, errors as undiciErrors } from "undici";
import { errorDetail } from "../../domain/classify.ts";
import { ConfigError, PermanentError } from "../../domain/errors.ts";
import type { ConnectorFactory } from "../webhook/egress-policy.ts";
import { classifyAddress } from "./blocked-ranges.ts";
import { Cidr, parseIp } from "./ip-ranges.ts";

/** Resolves a hostname to all its addresses; the guard checks every one. */
export type LookupFn = (hostname: string) => Promise<readonly LookupAddress[]>;

/**
 * `dns.lookup` with `all: true`, i.e. getaddrinfo and `/etc/hosts`, as `net.connect` would resolve:
 * with `ADDRCONFIG`, so a host without IPv6 gets no IPv6 answers to fail on.
 */
export const systemLookup: LookupFn = (hostname) =>
  dnsPromises.lookup(hostname, { all: true, hints: ADDRCONFIG });

/** The operator's allowances, compiled. */
export interface EgressRules {
  /** `ZEN_EGRESS_ALLOW_PRIVATE`: every blocked range is allowed except cloud metadata endpoints. */
  readonly allowPrivate: boolean;
  /** `ZEN_EGRESS_ALLOW_CIDRS`: allowed even when blocked, cloud metadata included. */
  readonly allowCidrs: readonly Cidr[];
}

/** What the operator allows beyond public addresses (`Config.egress`). */
export interface EgressAllowances {
  /** `ZEN_EGRESS_ALLOW_PRIVATE`: every blocked range except cloud metadata endpoints. */
  readonly allowPrivate: boolean;
  /** `ZEN_EGRESS_ALLOW_CIDRS` entries, e.g. `["10.20.0.0/16", "fd12::/48"]`; a bare address is one host. */
  readonly allowCidrs: readonly string[];
}

export interface EgressGuardOptions extends EgressAllowances {
  /** Default: `systemLookup`. Tests inject DNS answers here. */
  readonly lookup?: LookupFn;
  /** The connector the guard wraps. Default: undici's `buildConnector`. */
  readonly connectorFactory?: ConnectorFactory;
}

export type EgressDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly message: string };

/** @throws ConfigError listing every entry that is not an IPv4/IPv6 CIDR range. */
export function compileEgressRules(allowPrivate: boolean, allowCidrs: readonly string[]): EgressRules {
  const cidrs: Cidr[] = [];
  const problems: string[] = [];
  for (const [i, text] of allowCidrs.entries()) {
    const cidr = Cidr.parse(text);
    if (cidr === undefined) {
      problems.push(`ZEN_EGRESS_ALLOW_CIDRS[${i}]: not a CIDR range: ${errorDetail(text)}`);
    } else {
      cidrs.push(cidr);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ allowPrivate, allowCidrs: Object.freeze(cidrs) });
}

const allowPrivateRemedy = "set ZEN_EGRESS_ALLOW_PRIVATE=true or allow the CIDR in ZEN_EGRESS_ALLOW_CIDRS";
const metadataRemedy = "only a ZEN_EGRESS_ALLOW_CIDRS entry allows it (ZEN_EGRESS_ALLOW_PRIVATE does not)";

/**
 * Decides whether a connection to `address` may be opened. `fromDns` only changes the wording.
 * An answer that is not an IP address is refused.
 */
export function checkEgressAddress(address: string, rules: EgressRules, fromDns = false): EgressDecision {
  const parsed = parseIp(address);
  if (parsed === undefined) {
    return {
      allowed: false,
      message: `destination host resolved to "${errorDetail(address)}", not an IP address`,
    };
  }
  const { effective, carrier, blocked } = classifyAddress(parsed);
  if (blocked === undefined) return { allowed: true };
  if (rules.allowCidrs.some((cidr) => cidr.contains(parsed) || cidr.contains(effective))) {
    return { allowed: true };
  }
  if (rules.allowPrivate && !blocked.metadata) return { allowed: true };

  const notes = [
    ...(fromDns ? ["from DNS"] : []),
    ...(carrier === undefined ? [] : [`${carrier.description} ${effective.text}`]),
  ];
  const subject = `destination address ${parsed.text}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
  const remedy = blocked.metadata ? metadataRemedy : allowPrivateRemedy;
  return { allowed: false, message: `${subject} is ${blocked.description} (${blocked.cidr}); ${remedy}` };
}

/** undici's default connect timeout, used for the DNS step when the Agent sets none. */
const defaultConnectTimeoutMs = 10_000;

/**
 * Errors that prove one address unreachable at once (no route, nothing listening): the next checked
 * address is tried, as Happy Eyeballs would. A timeout ends the connect instead, so a connect costs
 * at most one DNS deadline plus one connect timeout.
 */
const failoverCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "EAFNOSUPPORT",
]);

type NetLookup = NonNullable<TcpNetConnectOpts["lookup"]>;

/**
 * Handed to `net.connect`, which only calls it for a hostname. The guard only ever passes checked
 * IP literals, so a call means a second, unchecked resolution was about to happen: refuse it.
 */
const refuseSecondLookup: NetLookup = (hostname, _options, callback) => {
  callback(
    new PermanentError("egress_denied", `refused an unchecked DNS lookup of ${errorDetail(hostname)}`),
    "",
    0,
  );
};

function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new undiciErrors.ConnectTimeoutError(`DNS lookup timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Resolves `hostname` once (an IP literal is not resolved) and checks every answer. */
async function checkedAddresses(
  hostname: string,
  rules: EgressRules,
  lookup: LookupFn,
  timeoutMs: number,
): Promise<readonly string[]> {
  const literal = isIP(hostname) !== 0;
  const addresses = literal
    ? [hostname]
    : (await withDeadline(lookup(hostname), timeoutMs)).map((a) => a.address);
  if (addresses.length === 0) {
    throw Object.assign(new Error("destination host has no addresses"), { code: "ENOTFOUND" });
  }
  for (const address of addresses) {
    const decision = checkEgressAddress(address, rules, !literal);
    if (!decision.allowed) throw new PermanentError("egress_denied", decision.message);
  }
  return addresses;
}

function connectOnce(
  connect: buildConnector.connector,
  target: buildConnector.Options,
  address: string,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // `host` keeps the original name: undici derives the TLS SNI from it, and Node verifies the
    // certificate against the SNI name, so TLS still authenticates the hostname, not the IP.
    connect({ ...target, host: target.host ?? target.hostname, hostname: address }, (err, socket) => {
      if (err === null) resolve(socket);
      else reject(err);
    });
  });
}

async function connectChecked(
  connect: buildConnector.connector,
  target: buildConnector.Options,
  addresses: readonly string[],
): Promise<Socket> {
  for (const [i, address] of addresses.entries()) {
    try {
      return await connectOnce(connect, target, address);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (i === addresses.length - 1 || typeof code !== "string" || !failoverCodes.has(code)) throw err;
    }
  }
  throw new Error("unreachable: addresses is not empty");
}

/**
 * The guarded connector factory: pass it where a `ConnectorFactory` is taken (`DestinationDeps`,
 * `agentOptions`). Each connect resolves the hostname with `lookup` (bounded by the connect
 * timeout), refuses when any answer is blocked and not allowed, then connects to the first checked
 * address (the next on refused/unreachable).
 *
 * Connect errors: `PermanentError` `egress_denied` (refused address); `ConnectTimeoutError` (DNS too
 * slow); the lookup's own error (`ENOTFOUND`, `EAI_AGAIN`); otherwise the wrapped connector's.
 * @throws ConfigError when an `allowCidrs` entry is not a CIDR range.
 */
export function createEgressGuard(options: EgressGuardOptions): ConnectorFactory {
  const rules = compileEgressRules(options.allowPrivate, options.allowCidrs);
  const lookup = options.lookup ?? systemLookup;
  const wrapped = options.connectorFactory ?? ((buildOptions) => buildConnector(buildOptions));
  return (buildOptions) => {
    const connect = wrapped({ ...buildOptions, lookup: refuseSecondLookup });
    const timeoutMs = buildOptions.timeout ?? defaultConnectTimeoutMs;
    return (target, callback) => {
      checkedAddresses(target.hostname, rules, lookup, timeoutMs)
        .then((addresses) => connectChecked(connect, target, addresses))
        .then(
          (socket) => callback(null, socket),
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
        );
    };
  };
}
