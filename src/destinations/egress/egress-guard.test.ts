/**
 * The guard never lets a test send a packet beyond loopback: refusals are proven with spies on the
 * wrapped connector and on `net.connect`/`tls.connect` (zero calls), and the "allowed" paths run
 * against servers on 127.0.0.1 with loopback explicitly allowed and DNS answers from a fake lookup.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import net, { type AddressInfo, Socket } from "node:net";
import { after, before, beforeEach, describe, type TestContext, test } from "node:test";
import tls from "node:tls";
import { Agent, type buildConnector, request } from "undici";
import { classifyNetworkError } from "../../domain/classify.ts";
import { ConfigError, PermanentError } from "../../domain/errors.ts";
import type { ConnectorFactory } from "../webhook/egress-policy.ts";
import { checkEgressAddress, compileEgressRules, createEgressGuard, type LookupFn } from "./egress-guard.ts";

const privateRemedy = "set ZEN_EGRESS_ALLOW_PRIVATE=true or allow the CIDR in ZEN_EGRESS_ALLOW_CIDRS";
const metadataRemedy = "only a ZEN_EGRESS_ALLOW_CIDRS entry allows it (ZEN_EGRESS_ALLOW_PRIVATE does not)";

/** A lookup answering from a script: one answer list per call, the last one repeating. */
function scriptedLookup(...answers: ReadonlyArray<readonly string[]>) {
  const calls: string[] = [];
  const lookup: LookupFn = async (hostname) => {
    calls.push(hostname);
    const answer = answers[Math.min(calls.length, answers.length) - 1] ?? [];
    return answer.map((address) => ({ address, family: net.isIP(address) }));
  };
  return { lookup, calls };
}

/** A wrapped connector that records what the guard hands it and never opens a socket. */
function spyConnector(result: "socket" | "refuse" = "refuse") {
  const builds: buildConnector.BuildOptions[] = [];
  const targets: buildConnector.Options[] = [];
  const sockets: Socket[] = [];
  const factory: ConnectorFactory = (options) => {
    builds.push(options);
    return (target, callback) => {
      targets.push(target);
      if (result === "refuse") {
        callback(Object.assign(new Error("spy: ECONNREFUSED"), { code: "ECONNREFUSED" }), null);
        return;
      }
      const socket = new Socket(); // never connected
      sockets.push(socket);
      callback(null, socket);
    };
  };
  return { factory, builds, targets, sockets };
}

/** Spies on the two functions every undici socket starts from; both still call through. */
function spyOnSockets(t: TestContext) {
  return { net: t.mock.method(net, "connect"), tls: t.mock.method(tls, "connect") };
}

/** The `host` of every `net.connect` call undici made (it always passes one options object). */
function connectedHosts(spy: ReturnType<typeof spyOnSockets>["net"]): unknown[] {
  return spy.mock.calls.map((call) => (call.arguments as unknown[] as [net.TcpNetConnectOpts])[0].host);
}

function connectThrough(
  factory: ConnectorFactory,
  target: Partial<buildConnector.Options> & { readonly hostname: string },
  timeout = 1_000,
): Promise<Socket> {
  const connector = factory({ timeout });
  return new Promise((resolve, reject) => {
    connector({ protocol: "http:", port: "80", host: `${target.hostname}:80`, ...target }, (err, socket) => {
      if (err === null) resolve(socket);
      else reject(err);
    });
  });
}

async function refusal(promise: Promise<unknown>): Promise<PermanentError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof PermanentError, `expected PermanentError, got ${String(err)}`);
    assert.equal(err.reason, "egress_denied");
    assert.equal(err.code, "egress_denied");
    return err;
  }
  assert.fail("expected the connect to be refused");
}

describe("compileEgressRules", () => {
  test("lists every entry that is not a CIDR range", () => {
    assert.throws(
      () => compileEgressRules(false, ["10.0.0.0/8", "10.0.0.0/33", "intranet"]),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === "config_invalid" &&
        err.problems.join("\n") ===
          "ZEN_EGRESS_ALLOW_CIDRS[1]: not a CIDR range: 10.0.0.0/33\nZEN_EGRESS_ALLOW_CIDRS[2]: not a CIDR range: intranet",
    );
  });
});

describe("checkEgressAddress", () => {
  const none = compileEgressRules(false, []);

  test("says what the address is and how to allow it", () => {
    assert.deepEqual(checkEgressAddress("10.0.0.1", none), {
      allowed: false,
      message: `destination address 10.0.0.1 is private (10.0.0.0/8); ${privateRemedy}`,
    });
    assert.deepEqual(checkEgressAddress("::ffff:a00:1", none, true), {
      allowed: false,
      message: `destination address ::ffff:a00:1 (from DNS; IPv4-mapped 10.0.0.1) is private (10.0.0.0/8); ${privateRemedy}`,
    });
    assert.deepEqual(checkEgressAddress("fe80::1%eth0", none, true), {
      allowed: false,
      message: `destination address fe80::1 (from DNS) is link-local (fe80::/10); ${privateRemedy}`,
    });
    assert.deepEqual(checkEgressAddress("not-an-ip", none, true), {
      allowed: false,
      message: 'destination host resolved to "not-an-ip", not an IP address',
    });
  });

  test("ZEN_EGRESS_ALLOW_PRIVATE does not open cloud metadata endpoints", () => {
    const rules = compileEgressRules(true, []);
    assert.deepEqual(checkEgressAddress("10.0.0.1", rules), { allowed: true });
    assert.deepEqual(checkEgressAddress("::1", rules), { allowed: true });
    assert.deepEqual(checkEgressAddress("169.254.169.254", rules), {
      allowed: false,
      message: `destination address 169.254.169.254 is a cloud metadata endpoint (169.254.169.254/32); ${metadataRemedy}`,
    });
    assert.equal(checkEgressAddress("::ffff:169.254.169.254", rules).allowed, false);
    assert.equal(checkEgressAddress("fd00:ec2::254", rules).allowed, false);
    assert.equal(checkEgressAddress("169.254.170.2", rules).allowed, false);
  });

  test("allowlisted CIDRs override, also for the IPv4 address inside an IPv6 one", () => {
    const rules = compileEgressRules(false, ["10.20.0.0/16", "169.254.169.254", "fd12::/16"]);
    const table: ReadonlyArray<[string, boolean]> = [
      ["10.20.0.1", true],
      ["10.20.255.255", true],
      ["10.21.0.1", false],
      ["10.19.255.255", false],
      ["::ffff:10.20.0.1", true],
      ["64:ff9b::10.20.0.1", true],
      ["169.254.169.254", true],
      ["169.254.169.253", false],
      ["fd12:1::1", true],
      ["fd13::1", false],
      ["127.0.0.1", false],
      ["8.8.8.8", true],
    ];
    for (const [address, allowed] of table) {
      assert.equal(checkEgressAddress(address, rules).allowed, allowed, address);
    }
  });
});

describe("createEgressGuard: refusals before any socket", () => {
  for (const [hostname, message] of [
    ["169.254.169.254", `is a cloud metadata endpoint (169.254.169.254/32); ${metadataRemedy}`],
    ["10.0.0.1", `is private (10.0.0.0/8); ${privateRemedy}`],
    ["::1", `is loopback (::1/128); ${privateRemedy}`], // undici passes `[::1]` without brackets
    ["0.0.0.0", `is this-network (0.0.0.0/8); ${privateRemedy}`],
  ] as const) {
    test(`refuses the literal ${hostname} without a lookup or a connect`, async (t) => {
      const sockets = spyOnSockets(t);
      const dns = scriptedLookup(["8.8.8.8"]);
      const spy = spyConnector();
      const guard = createEgressGuard({
        allowPrivate: false,
        allowCidrs: [],
        lookup: dns.lookup,
        connectorFactory: spy.factory,
      });
      const err = await refusal(connectThrough(guard, { hostname }));
      assert.equal(err.message, `destination address ${hostname} ${message}`);
      assert.deepEqual(dns.calls, []);
      assert.equal(spy.targets.length, 0);
      assert.equal(sockets.net.mock.callCount() + sockets.tls.mock.callCount(), 0);
    });
  }

  test("refuses a hostname resolving to a private address", async () => {
    const dns = scriptedLookup(["192.168.1.10"]);
    const spy = spyConnector();
    const guard = createEgressGuard({
      allowPrivate: false,
      allowCidrs: [],
      lookup: dns.lookup,
      connectorFactory: spy.factory,
    });
    const err = await refusal(connectThrough(guard, { hostname: "hooks.tenant.test" }));
    assert.equal(
      err.message,
      `destination address 192.168.1.10 (from DNS) is private (192.168.0.0/16); ${privateRemedy}`,
    );
    assert.deepEqual(dns.calls, ["hooks.tenant.test"]);
    assert.equal(spy.targets.length, 0);
  });

  for (const answers of [
    ["93.184.215.14", "10.0.0.1"],
    ["10.0.0.1", "93.184.215.14"],
    ["2606:4700::1", "fd00:ec2::254"],
  ]) {
    test(`refuses when any answer is blocked: ${answers.join(", ")}`, async () => {
      const spy = spyConnector();
      const guard = createEgressGuard({
        allowPrivate: false,
        allowCidrs: [],
        lookup: scriptedLookup(answers).lookup,
        connectorFactory: spy.factory,
      });
      await refusal(connectThrough(guard, { hostname: "mixed.test" }));
      assert.equal(spy.targets.length, 0);
    });
  }

  test("DNS rebinding: one lookup per connect, and the socket goes to exactly the checked address", async () => {
    // The attacker's DNS answers public for the first connection, private for the next.
    const dns = scriptedLookup(["93.184.215.14"], ["10.0.0.1"]);
    const spy = spyConnector("socket");
    const guard = createEgressGuard({
      allowPrivate: false,
      allowCidrs: [],
      lookup: dns.lookup,
      connectorFactory: spy.factory,
    });

    const socket = await connectThrough(guard, { hostname: "rebind.test", host: "rebind.test:80" });
    assert.equal(socket, spy.sockets[0]);
    assert.deepEqual(dns.calls, ["rebind.test"]);
    assert.equal(spy.targets.length, 1);
    // An IP literal: net.connect does not resolve it again, so the second answer cannot sneak in.
    assert.equal(spy.targets[0]?.hostname, "93.184.215.14");
    assert.equal(spy.targets[0]?.host, "rebind.test:80");

    const err = await refusal(connectThrough(guard, { hostname: "rebind.test" }));
    assert.match(err.message, /^destination address 10\.0\.0\.1 \(from DNS\) is private/);
    assert.deepEqual(dns.calls, ["rebind.test", "rebind.test"]);
    assert.equal(spy.targets.length, 1);
    for (const s of spy.sockets) s.destroy();
  });

  test("hands the wrapped connector a lookup that refuses any second resolution", async () => {
    const spy = spyConnector();
    createEgressGuard({ allowPrivate: false, allowCidrs: [], connectorFactory: spy.factory })({ timeout: 5 });
    const lookup = (spy.builds[0] as { lookup?: (...args: unknown[]) => void }).lookup;
    assert.ok(lookup);
    const err = await new Promise((resolve) => lookup("evil.test", {}, resolve));
    assert.ok(err instanceof PermanentError);
    assert.equal(err.reason, "egress_denied");
    assert.equal(spy.builds[0]?.timeout, 5);
  });

  test("DNS failures keep their codes; an empty answer is ENOTFOUND; slow DNS is a connect timeout", async () => {
    const notFound: LookupFn = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.test"), { code: "ENOTFOUND" });
    };
    const never: LookupFn = () => new Promise(() => {});
    const spy = spyConnector();
    const guard = (lookup: LookupFn) =>
      createEgressGuard({ allowPrivate: false, allowCidrs: [], lookup, connectorFactory: spy.factory });

    const failures = await Promise.allSettled([
      connectThrough(guard(notFound), { hostname: "nowhere.test" }),
      connectThrough(guard(scriptedLookup([]).lookup), { hostname: "empty.test" }),
      connectThrough(guard(never), { hostname: "slow.test" }, 20),
    ]);
    const reasons = failures.map((f) =>
      f.status === "rejected" ? classifyNetworkError(f.reason).reason : "ok",
    );
    assert.deepEqual(reasons, ["network_error", "network_error", "timeout"]);
    assert.equal(spy.targets.length, 0);
  });
});

describe("createEgressGuard: TLS keeps the hostname", () => {
  test("SNI and certificate check use the original hostname while the socket goes to the checked IP", async (t) => {
    const seen: tls.ConnectionOptions[] = [];
    t.mock.method(tls, "connect", (options: tls.ConnectionOptions) => {
      seen.push(options);
      const socket = new tls.TLSSocket(new Socket());
      process.nextTick(() => socket.destroy(new Error("tls spy: no handshake in this test")));
      return socket;
    });
    const sockets = t.mock.method(net, "connect");
    const guard = createEgressGuard({
      allowPrivate: true,
      allowCidrs: [],
      lookup: scriptedLookup(["127.0.0.1"]).lookup,
    });
    await assert.rejects(
      connectThrough(guard, {
        hostname: "hooks.example.test",
        host: "hooks.example.test",
        protocol: "https:",
        port: "1",
      }),
      /tls spy/,
    );
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.host, "127.0.0.1");
    assert.equal(seen[0]?.servername, "hooks.example.test");
    assert.equal(sockets.mock.callCount(), 0);
  });
});

describe("createEgressGuard: through a real undici Agent on 127.0.0.1", () => {
  let server: Server;
  let port: number;
  const connections: string[] = [];
  const hosts: string[] = [];
  const agents: Agent[] = [];

  before(async () => {
    server = createServer((req, res) => {
      hosts.push(req.headers.host ?? "");
      res.end("ok");
    });
    server.on("connection", (socket: Socket) => connections.push(socket.remoteAddress ?? ""));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    connections.length = 0;
    hosts.length = 0;
  });

  function agent(guard: ConnectorFactory): Agent {
    const a = new Agent({ connect: guard({ timeout: 2_000 }) });
    agents.push(a);
    return a;
  }

  async function get(dispatcher: Agent, url: string, headers: Record<string, string> = {}) {
    const response = await request(url, { dispatcher, headers });
    const body = await response.body.text();
    return { status: response.statusCode, body };
  }

  test("ZEN_EGRESS_ALLOW_PRIVATE=true: a hostname resolving to 127.0.0.1 is reached, Host unchanged", async (t) => {
    const sockets = spyOnSockets(t);
    const dns = scriptedLookup(["127.0.0.1"]);
    const dispatcher = agent(createEgressGuard({ allowPrivate: true, allowCidrs: [], lookup: dns.lookup }));
    assert.deepEqual(await get(dispatcher, `http://zen.test:${port}/a`), { status: 200, body: "ok" });
    assert.deepEqual(await get(dispatcher, `http://zen.test:${port}/b`), { status: 200, body: "ok" });
    assert.deepEqual(hosts, [`zen.test:${port}`, `zen.test:${port}`]);
    // Whether undici reuses the socket for /b or opens another: one lookup per connect, and every
    // socket is opened to the checked IP literal, never to the name.
    assert.ok(connections.length >= 1);
    assert.deepEqual(
      dns.calls,
      connections.map(() => "zen.test"),
    );
    assert.deepEqual(
      connectedHosts(sockets.net),
      connections.map(() => "127.0.0.1"),
    );
    assert.ok(connections.every((address) => address === "127.0.0.1"));
  });

  test("an allowlisted CIDR opens loopback without ZEN_EGRESS_ALLOW_PRIVATE", async () => {
    const dispatcher = agent(createEgressGuard({ allowPrivate: false, allowCidrs: ["127.0.0.1/32"] }));
    assert.deepEqual(await get(dispatcher, `http://127.0.0.1:${port}/`), { status: 200, body: "ok" });
  });

  for (const host of ["127.0.0.1", "[::1]", "localhost"]) {
    test(`by default http://${host}/ is refused before any socket, and the error reaches the caller as is`, async (t) => {
      const sockets = spyOnSockets(t);
      const dispatcher = agent(
        createEgressGuard({
          allowPrivate: false,
          allowCidrs: [],
          lookup: scriptedLookup(["127.0.0.1", "::1"]).lookup,
        }),
      );
      const err = await refusal(get(dispatcher, `http://${host}:${port}/`));
      assert.equal(classifyNetworkError(err), err);
      assert.equal(sockets.net.mock.callCount() + sockets.tls.mock.callCount(), 0);
      assert.deepEqual(connections, []);
    });
  }

  test("DNS rebinding against real sockets: the rebound answer is refused on the next connect", async (t) => {
    const sockets = spyOnSockets(t);
    const dns = scriptedLookup(["127.0.0.1"], ["127.0.0.2"]);
    const dispatcher = agent(
      createEgressGuard({ allowPrivate: false, allowCidrs: ["127.0.0.1/32"], lookup: dns.lookup }),
    );
    // `connection: close` makes the next request open (and therefore check) a new connection.
    assert.equal((await get(dispatcher, `http://rebind.test:${port}/`, { connection: "close" })).status, 200);
    const err = await refusal(get(dispatcher, `http://rebind.test:${port}/`));
    assert.match(
      err.message,
      /^destination address 127\.0\.0\.2 \(from DNS\) is loopback \(127\.0\.0\.0\/8\)/,
    );
    assert.deepEqual(dns.calls, ["rebind.test", "rebind.test"]);
    assert.deepEqual(connections, ["127.0.0.1"]);
    assert.equal(sockets.net.mock.callCount(), 1);
  });

  test("a refused address fails over to the next checked one", async (t) => {
    const sockets = spyOnSockets(t);
    // Nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1): ECONNREFUSED, then 127.0.0.1.
    const dispatcher = agent(
      createEgressGuard({
        allowPrivate: true,
        allowCidrs: [],
        lookup: scriptedLookup(["127.0.0.2", "127.0.0.1"]).lookup,
      }),
    );
    assert.equal((await get(dispatcher, `http://two.test:${port}/`)).status, 200);
    assert.deepEqual(connectedHosts(sockets.net), ["127.0.0.2", "127.0.0.1"]);
    assert.deepEqual(connections, ["127.0.0.1"]);
  });
});
