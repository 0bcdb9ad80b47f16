/**
 * Reads the YAML config file (`ZEN_CONFIG`) into plain data. Syntax errors are reported as
 * `<path>:<line>:<col>: YAML syntax error: <message>` (editors jump to that), never with the offending
 * text: it may be a line holding a secret someone pasted in.
 */
import { LineCounter, parseDocument } from "yaml";
import { envLocation, type Problems } from "./problems.ts";
import { type ReadFile, readErrorReason } from "./read-file.ts";

/** Aliases a document may expand: enough for any real config, too few for a "billion laughs" bomb. */
const maxAliasCount = 100;

/**
 * The file's content as plain JS data (`null` for an empty document), or undefined when it cannot be
 * read or parsed (the reasons are recorded in `problems`).
 */
export function readConfigFile(path: string, readFile: ReadFile, problems: Problems): unknown {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    problems.add(envLocation("ZEN_CONFIG"), `cannot read config file ${path}: ${readErrorReason(err)}`);
    return undefined;
  }
  const lineCounter = new LineCounter();
  // uniqueKeys: a repeated key is an error, not a silent "last one wins".
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues = [
    ...doc.errors.map((e) => ({ e, kind: "YAML syntax error" })),
    ...doc.warnings.map((e) => ({ e, kind: "YAML warning" })),
  ];
  for (const { e, kind } of issues) {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    problems.add(`${path}:${line}:${col}`, `${kind}: ${e.message.replace(/\s+/g, " ").trim()}`);
  }
  if (issues.length > 0) return undefined;
  try {
    return doc.toJS({ maxAliasCount });
  } catch (err) {
    problems.add(path, `cannot load YAML: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
