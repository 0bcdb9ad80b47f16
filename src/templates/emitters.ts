/**
 * Where rendered text goes. LiquidJS's own emitter appends without bound; between two render-time
 * checks a loop can append megabytes. These emitters enforce the output-size limit at every write
 * (so a render never holds more than the cap) and charge `{% capture %}` text to the memory limit
 * (so doubling a captured string in a loop stops early instead of growing to V8's maximum string).
 */
import type { Emitter } from "liquidjs";
import { toValue } from "liquidjs";

/** Thrown by {@link CappedEmitter}; LiquidJS wraps it in a RenderError that keeps it as `originalError`. */
export class OutputLimitExceeded extends Error {
  constructor(readonly maxChars: number) {
    super(`output size limit (${maxChars} characters) exceeded`);
    this.name = "OutputLimitExceeded";
  }
}

/** The render's output: refuses any write that would make it longer than `maxChars`. */
export class CappedEmitter implements Emitter {
  buffer = "";
  constructor(private readonly maxChars: number) {}

  write(html: unknown): void {
    const text = stringify(html);
    if (this.buffer.length + text.length > this.maxChars) throw new OutputLimitExceeded(this.maxChars);
    this.buffer += text;
  }
}

/** A memory-limit charge, as LiquidJS's `Context.memoryLimit` offers it. */
export interface MemoryCharge {
  use(count: number): void;
}

/** The text of a `{% capture %}`: every write is charged to the render's memory limit first. */
export class ChargedEmitter implements Emitter {
  buffer = "";
  constructor(private readonly memory: MemoryCharge) {}

  write(html: unknown): void {
    const text = stringify(html);
    this.memory.use(text.length);
    this.buffer += text;
  }
}

/** LiquidJS's stringification of an output value: nil is empty, arrays are joined with no separator. */
function stringify(value: unknown): string {
  const v: unknown = toValue(value);
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map(stringify).join("");
  return String(v);
}
