/**
 * Summarizes a V8 `.cpuprofile` (from `BENCH_CPU_PROF=<dir> npm run bench`, or `node --cpu-prof`):
 * self and inclusive time by function and self time by file, heaviest first, as shares of the time
 * the thread was not idle, so hotspots can be named as file:function.
 *
 *   npx tsx bench/profile-summary.ts <dir>/intake/CPU.<…>.0.001.cpuprofile [top=25]
 *   npx tsx bench/profile-summary.ts <dir> [top=25]   # each service's main-thread profile in <dir>
 *
 * Time in a native call (a SQLite statement, an fsync) counts as the self time of the JS function
 * that made it: the profiler samples the stack, blocked or not.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const idleFrames = new Set(["(idle)", "(program)"]);

/** A short location: the path from the repo or package down, without the file:// prefix. */
function place(url: string): string {
  if (url === "") return "(native)";
  const clean = url.replace(/^file:\/\//, "");
  const nodeModules = clean.lastIndexOf("node_modules/");
  if (nodeModules >= 0) return clean.slice(nodeModules + "node_modules/".length);
  const repo = clean.search(/\/(src|bench|test)\//);
  return repo >= 0 ? clean.slice(repo + 1) : clean;
}

function functionKey(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${place(url)}:${functionName || "(anonymous)"}:${lineNumber + 1}`;
}

function summarize(profile: CpuProfile, top: number): void {
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((nodeId, i) => {
    selfMicros.set(nodeId, (selfMicros.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const busy = profile.nodes
    .filter((node) => !idleFrames.has(node.callFrame.functionName))
    .reduce((sum, node) => sum + (selfMicros.get(node.id) ?? 0), 0);

  const selfByFunction = new Map<string, number>();
  const selfByFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0;
    if (micros === 0 || idleFrames.has(node.callFrame.functionName)) continue;
    const key = functionKey(node);
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + micros);
    const file = place(node.callFrame.url);
    selfByFile.set(file, (selfByFile.get(file) ?? 0) + micros);
  }

  // Inclusive time: each sample counts once for every distinct function on its stack.
  const inclusive = new Map<string, number>();
  const totals = new Map<number, number>();
  const total = (id: number): number => {
    const cached = totals.get(id);
    if (cached !== undefined) return cached;
    const node = nodes.get(id);
    const sum =
      (selfMicros.get(id) ?? 0) + (node?.children ?? []).reduce((acc, child) => acc + total(child), 0);
    totals.set(id, sum);
    return sum;
  };
  const walk = (id: number, onPath: Set<string>) => {
    const node = nodes.get(id);
    if (!node) return;
    const key = functionKey(node);
    const fresh = !onPath.has(key);
    if (fresh) {
      inclusive.set(key, (inclusive.get(key) ?? 0) + total(id));
      onPath.add(key);
    }
    for (const child of node.children ?? []) walk(child, onPath);
    if (fresh) onPath.delete(key);
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());

  const print = (title: string, table: Map<string, number>) => {
    console.log(`\n${title}`);
    const rows = [...table].filter(([name]) => !name.includes("(root)")).sort((a, b) => b[1] - a[1]);
    for (const [name, micros] of rows.slice(0, top)) {
      console.log(
        `${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}`,
      );
    }
  };
  console.log(`busy (not idle) ${(busy / 1e6).toFixed(1)} s; shares below are of that`);
  print("self time by function", selfByFunction);
  print("inclusive time by function", inclusive);
  print("self time by file", selfByFile);
}

/**
 * The profiles to read: the file itself, or for a directory (`BENCH_CPU_PROF`) the main-thread profile
 * of each service under it: Node numbers a process's profiles by thread, the main thread's is `.0.001`.
 */
function profilesOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".0.001.cpuprofile"))
    .sort()
    .map((name) => join(path, name));
}

const [path, topArg] = process.argv.slice(2);
if (path === undefined) {
  console.error("usage: tsx bench/profile-summary.ts <file.cpuprofile | dir> [top]");
  process.exit(2);
}
for (const file of profilesOf(path)) {
  console.log(`== ${file}`);
  summarize(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, Number(topArg ?? 25));
}
