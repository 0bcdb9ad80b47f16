/**
 * Redaction throughput on a realistic ~10 KB event: a Falco syscall event (output + output_fields,
 * shaped after the reference fixtures, with a bearer token and an AWS key in the command line) plus
 * a Trivy VulnerabilityReport fragment, in the k8s namespace `payments`, as the canonical event a
 * delivery carries.
 *
 * Measures, single-threaded in this process: layer 1 (`prepareEvent`), layer 2 (`redactBody` on the
 * unredacted JSON body, and on the same body with escaped slashes, which takes the JSON-unescaped
 * view), and the delivery path exactly as the webhook destination runs it per attempt
 * (`AttemptRedaction`: layer 1, `renderBody`, layer 2 on the result), with `JSON.stringify` alone as
 * the floor. MB/s are the event's JSON body bytes per second for every row, so rows compare. Target
 * (issue 6): ≥ 50 MB/s on the delivery path.
 *
 * Rows are measured round-robin (5 rounds, median per row) after every row has been warmed up, so the
 * JIT has seen both layers, as in a running service, and a burst of noise from other processes on the
 * machine hits one round, not one row. Each row reports wall-clock rates and the process's CPU time
 * per event: on a shared, busy machine the wall clock also counts time spent waiting for a core, so
 * the target is judged on CPU time (the load average is printed so the two can be compared).
 *
 * Run: `tsx bench/redaction-bench.ts` (BENCH_REDACTION_SECONDS per row, default 2). `runRedactionBench`
 * is what `bench/run.ts` can call; `formatRedactionBench` prints its result. */
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { renderBody } from "../src/destinations/webhook/render-body.ts";
import type { ResourceRef, ZenEvent } from "../src/domain/event.ts";
import { type RedactionCounts, totalRedactions } from "../src/redaction/kinds.ts";
import { type CompiledRedactionPolicy, compileRedactionPolicy } from "../src/redaction/policy.ts";
import {
  AttemptRedaction,
  knownNamespacesOf,
  prepareEvent,
  redactBody,
} from "../src/redaction/redact-delivery.ts";

/** Issue 6: redaction must cost < 5% of a delivery, i.e. at least this many MB/s on this machine. */
export const redactionTargetMbPerSecond = 50;

export interface RedactionBenchRow {
  readonly name: string;
  readonly iterations: number;
  readonly seconds: number;
  /** Wall clock: median over the rounds. */
  readonly mbPerSecond: number;
  readonly eventsPerSecond: number;
  readonly microsecondsPerEvent: number;
  /**
   * CPU time of this process per event (median over the rounds): what redaction costs the service.
   * On a busy machine the wall-clock figures also count time spent waiting for a core; these do not.
   */
  readonly cpuMicrosecondsPerEvent: number;
  readonly cpuMbPerSecond: number;
}

export interface RedactionBenchResult {
  /** Size of the event's JSON body, bytes. */
  readonly eventBytes: number;
  readonly rows: readonly RedactionBenchRow[];
  /** Redactions in one event by each layer (the fixture's secrets are found). */
  readonly valueCounts: RedactionCounts;
  readonly textCounts: RedactionCounts;
  readonly targetMbPerSecond: number;
  /** True when the full delivery path (both layers and the body) reaches the target, in CPU time. */
  readonly meetsTarget: boolean;
  /** 1-minute load average before and after (os.loadavg), to judge the wall-clock figures. */
  readonly loadAverage: readonly [before: number, after: number];
}

const vulnerabilityTemplates = [
  [
    "CVE-2019-20367",
    "libbsd0",
    "0.9.1-2",
    "0.9.1-2+deb10u1",
    "CRITICAL",
    9.1,
    "nlist.c in libbsd before 0.10.0 has an out-of-bounds read during a comparison for a symbol name from the string table (strtab).",
  ],
  [
    "CVE-2018-25009",
    "libwebp6",
    "0.6.1-2",
    "",
    "CRITICAL",
    9.1,
    "libwebp: out-of-bounds read in WebPMuxCreateInternal",
  ],
  [
    "CVE-2020-27350",
    "apt",
    "1.8.2",
    "1.8.2.2",
    "HIGH",
    5.7,
    "apt: integer overflows and underflows while parsing .deb packages",
  ],
  [
    "CVE-2023-4911",
    "libc6",
    "2.28-10",
    "2.28-10+deb10u2",
    "HIGH",
    7.8,
    "glibc: buffer overflow in ld.so leading to privilege escalation (Looney Tunables)",
  ],
  [
    "CVE-2022-1292",
    "openssl",
    "1.1.1d-0+deb10u3",
    "1.1.1n-0+deb10u2",
    "CRITICAL",
    9.8,
    "openssl: c_rehash script allows command injection",
  ],
  [
    "CVE-2021-3711",
    "libssl1.1",
    "1.1.1d-0+deb10u3",
    "1.1.1d-0+deb10u7",
    "CRITICAL",
    9.8,
    "openssl: SM2 Decryption Buffer Overflow",
  ],
] as const;

/** The benchmark event: a Falco event and a Trivy report fragment, ~10 KB as JSON. */
export function buildBenchEvent(targetBytes = 10_240): Record<string, unknown> {
  const vulnerabilities: Record<string, unknown>[] = [];
  const event = {
    id: "8f14e45f-ceea-467a-9af0-2b1f3e5c8a71",
    tenant: "acme",
    source: "falco",
    type: "falco.Terminal shell in container",
    severity: "notice",
    receivedAt: "2026-10-01T11:59:58.200Z",
    resource: { kind: "Pod", namespace: "payments", name: "checkout-6d4cf56db6-x7k2p" },
    data: {
      hostname: "ip-10-0-3-17",
      output:
        "2026-10-01T11:59:58.123456789+0000: Notice A shell was spawned in a container with an attached terminal | evt_type=execve user=root user_uid=0 user_loginuid=-1 process=sh proc_exepath=/bin/busybox parent=runc command=sh -c curl -sH 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaGVja291dCJ9.c2lnbmF0dXJlLW5vdC1yZWFs' https://10.0.12.4:8443/internal terminal=34816 container_id=9cc6d64c75d0 container_name=app container_image_repository=docker.io/acme/checkout container_image_tag=1.16.2 k8s_pod_name=checkout-6d4cf56db6-x7k2p k8s_ns_name=payments",
      output_fields: {
        "container.id": "9cc6d64c75d0",
        "container.image.repository": "docker.io/acme/checkout",
        "container.image.tag": "1.16.2",
        "container.image.digest": `sha256:${"d20aa6d1e4f5a9b8c7d6e5f4a3b2c1d0".repeat(2)}`,
        "container.name": "app",
        "evt.arg.flags": "EXE_WRITABLE|EXE_LOWER_LAYER",
        // Nanoseconds since the epoch: more than 2^53, as Falco sends it (JSON.parse rounds it the same way).
        "evt.time": 1791201598123456800,
        "evt.type": "execve",
        "fd.name": "/var/run/secrets/kubernetes.io/serviceaccount/token",
        "k8s.ns.name": "payments",
        "k8s.pod.name": "checkout-6d4cf56db6-x7k2p",
        "proc.cmdline":
          "sh -c curl -sH 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaGVja291dCJ9.c2lnbmF0dXJlLW5vdC1yZWFs' https://10.0.12.4:8443/internal",
        // AWS's documented example key id, assembled so secret scanners do not flag the source.
        "proc.env": `HOME=/root PATH=/usr/local/bin:/usr/bin AWS_ACCESS_KEY_ID=${"AKIA"}IOSFODNN7EXAMPLE LANG=C.UTF-8`,
        "proc.exepath": "/bin/busybox",
        "proc.name": "sh",
        "proc.pname": "runc",
        "proc.tty": 34816,
        "user.loginuid": -1,
        "user.name": "root",
        "user.uid": 0,
      },
      priority: "Notice",
      rule: "Terminal shell in container",
      source: "syscall",
      tags: ["T1059", "container", "maturity_stable", "mitre_execution", "shell"],
      time: "2026-10-01T11:59:58.123456789Z",
    },
    report: {
      apiVersion: "aquasecurity.github.io/v1alpha1",
      kind: "VulnerabilityReport",
      metadata: {
        name: "replicaset-checkout-6d4cf56db6-app",
        namespace: "payments",
        labels: {
          "trivy-operator.container.name": "app",
          "trivy-operator.resource.kind": "ReplicaSet",
          "trivy-operator.resource.name": "checkout-6d4cf56db6",
          "trivy-operator.resource.namespace": "payments",
          "resource-spec-hash": "7cb64cb677",
        },
      },
      report: {
        updateTimestamp: "2026-10-01T11:40:00Z",
        scanner: { name: "Trivy", vendor: "Aqua Security", version: "0.58.1" },
        registry: { server: "index.docker.io" },
        artifact: { repository: "acme/checkout", tag: "1.16.2" },
        os: { family: "debian", name: "10.3", eosl: true },
        summary: {
          criticalCount: 2,
          highCount: 1,
          mediumCount: 0,
          lowCount: 0,
          unknownCount: 0,
          noneCount: 0,
        },
        vulnerabilities,
      },
    },
  };
  for (let i = 0; JSON.stringify(event).length < targetBytes; i++) {
    const [id, resource, installed, fixed, severity, score, title] = vulnerabilityTemplates[
      i % vulnerabilityTemplates.length
    ] as (typeof vulnerabilityTemplates)[number];
    vulnerabilities.push({
      vulnerabilityID: id,
      resource,
      installedVersion: installed,
      fixedVersion: fixed,
      severity,
      score,
      title,
      primaryLink: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
      links: [`https://security-tracker.debian.org/tracker/${id}`],
      target: "acme/checkout:1.16.2",
      publishedDate: "2020-01-08T19:15:00Z",
      lastModifiedDate: "2023-11-07T03:09:00Z",
    });
  }
  return event;
}

interface Scenario {
  readonly name: string;
  readonly run: () => void;
}

/**
 * The fixture as the canonical event a Falco source delivers (DESIGN.md §2): the Falco payload and
 * the Trivy fragment under `data`, the pod as `resource` (so `payments` is a known namespace, as in
 * a real delivery).
 */
export function buildBenchDeliveryEvent(targetBytes = 10_240): ZenEvent {
  const fixture = buildBenchEvent(targetBytes) as {
    readonly data: Record<string, unknown>;
    readonly report: unknown;
    readonly resource: ResourceRef;
  } & Record<string, unknown>;
  return {
    id: fixture.id as string,
    tenant: fixture.tenant as string,
    source: fixture.source as string,
    type: fixture.type as string,
    severity: "info",
    subject: fixture.data.rule as string,
    resource: fixture.resource,
    data: { ...fixture.data, report: fixture.report },
    receivedAt: fixture.receivedAt as string,
  };
}

interface Sample {
  readonly iterations: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
}

/** Runs `scenario` for about `ms` milliseconds of wall clock. */
function rate(scenario: Scenario, ms: number): Sample {
  let iterations = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 20; i++) scenario.run();
    iterations += 20;
    now = performance.now();
  }
  const cpu = process.cpuUsage(cpuStart);
  return { iterations, seconds: (now - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Warms every scenario up (so the JIT has seen every path, as in a running service), then measures
 * them round-robin, `rounds` times, and reports each scenario's median rate (wall clock and CPU).
 */
function measureAll(
  scenarios: readonly Scenario[],
  bytes: number,
  secondsPerRow: number,
  rounds: number,
): RedactionBenchRow[] {
  for (const scenario of scenarios) rate(scenario, Math.min(500, secondsPerRow * 250));
  const samples = scenarios.map(() => [] as Sample[]);
  for (let round = 0; round < rounds; round++) {
    scenarios.forEach((scenario, i) => {
      (samples[i] as Sample[]).push(rate(scenario, (secondsPerRow * 1000) / rounds));
    });
  }
  return scenarios.map((scenario, i) => {
    const own = samples[i] as Sample[];
    const eventsPerSecond = median(own.map((s) => s.iterations / s.seconds));
    const cpuMicrosecondsPerEvent = median(own.map((s) => (s.cpuSeconds * 1e6) / s.iterations));
    return {
      name: scenario.name,
      iterations: own.reduce((sum, s) => sum + s.iterations, 0),
      seconds: own.reduce((sum, s) => sum + s.seconds, 0),
      mbPerSecond: (eventsPerSecond * bytes) / 1e6,
      eventsPerSecond,
      microsecondsPerEvent: 1e6 / eventsPerSecond,
      cpuMicrosecondsPerEvent,
      cpuMbPerSecond: bytes / cpuMicrosecondsPerEvent,
    };
  });
}

/** Name of the row the target applies to: everything a webhook delivery spends on redaction. */
export const deliveryRowName = "delivery: layer 1 + body + layer 2";

/** Runs every row for `secondsPerRow` seconds in total (after a warm-up) and answers the figures. */
export async function runRedactionBench(
  options: {
    readonly secondsPerRow?: number;
    readonly rounds?: number;
    readonly policy?: CompiledRedactionPolicy;
  } = {},
): Promise<RedactionBenchResult> {
  const seconds = options.secondsPerRow ?? 2;
  const loadBefore = loadavg()[0] ?? 0;
  const policy =
    options.policy ??
    compileRedactionPolicy({
      namespaces: { mode: "hash", hashKey: Buffer.alloc(32, 0x5a), allow: ["kube-system", "kube-public"] },
    });
  const event = buildBenchDeliveryEvent();
  const known = knownNamespacesOf(event);
  // The body layer 2 gets when layer 1 found nothing: every secret of the fixture is still in it.
  const body = renderBody(event);
  const escapedBody = body.replaceAll("/", "\\/");
  const bytes = Buffer.byteLength(body);
  const valueCounts = prepareEvent(event, policy).counts;
  const textCounts = redactBody(body, policy, known).counts;
  let sink = 0;
  const rows = measureAll(
    [
      {
        name: "JSON.stringify alone (reference)",
        run: () => {
          sink ^= renderBody(event).length;
        },
      },
      {
        name: "layer 1: prepareEvent(event)",
        run: () => {
          sink ^= prepareEvent(event, policy).event === event ? 1 : 0;
        },
      },
      {
        name: "layer 2: redactBody(unredacted JSON)",
        run: () => {
          sink ^= redactBody(body, policy, known).text.length;
        },
      },
      {
        name: "layer 2: redactBody(same, \\/ escapes)",
        run: () => {
          sink ^= redactBody(escapedBody, policy, known).text.length;
        },
      },
      {
        // Exactly what the webhook destination does per attempt without a `body` template.
        name: deliveryRowName,
        run: () => {
          const redaction = new AttemptRedaction(event, policy);
          sink ^= redaction.body(renderBody(redaction.event)).length;
        },
      },
    ],
    bytes,
    seconds,
    options.rounds ?? 5,
  );
  if (sink === -1) console.log(sink);
  const delivery = rows.find((row) => row.name === deliveryRowName);
  return {
    eventBytes: bytes,
    rows,
    valueCounts,
    textCounts,
    targetMbPerSecond: redactionTargetMbPerSecond,
    meetsTarget: delivery !== undefined && delivery.cpuMbPerSecond >= redactionTargetMbPerSecond,
    loadAverage: [loadBefore, loadavg()[0] ?? 0],
  };
}

/** The result as a small fixed-width table. */
export function formatRedactionBench(result: RedactionBenchResult): string {
  const [loadBefore, loadAfter] = result.loadAverage;
  const lines = [
    `redaction on a ${(result.eventBytes / 1024).toFixed(1)} KiB event (Falco + Trivy fragment), single thread, medians`,
    `load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`,
    `${"row".padEnd(44)}${"wall MB/s".padStart(10)}${"events/s".padStart(10)}${"µs/event".padStart(10)}${"CPU MB/s".padStart(10)}${"CPU µs".padStart(8)}`,
  ];
  for (const row of result.rows) {
    lines.push(
      `${row.name.padEnd(44)}${row.mbPerSecond.toFixed(1).padStart(10)}${Math.round(row.eventsPerSecond)
        .toString()
        .padStart(10)}${row.microsecondsPerEvent.toFixed(1).padStart(10)}${row.cpuMbPerSecond
        .toFixed(1)
        .padStart(10)}${row.cpuMicrosecondsPerEvent.toFixed(1).padStart(8)}`,
    );
  }
  lines.push(
    `redactions per event: layer 1 ${totalRedactions(result.valueCounts)} ${JSON.stringify(result.valueCounts)}`,
    `                      layer 2 ${totalRedactions(result.textCounts)} ${JSON.stringify(result.textCounts)}`,
    `target ≥ ${result.targetMbPerSecond} MB/s (CPU time) on the delivery path: ${result.meetsTarget ? "met" : "NOT met"}`,
  );
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const seconds = Number(process.env.BENCH_REDACTION_SECONDS ?? "2");
  const result = await runRedactionBench({
    secondsPerRow: Number.isFinite(seconds) && seconds > 0 ? seconds : 2,
  });
  console.log(formatRedactionBench(result));
}
