/**
 * The request pool: unique, correctly signed GitHub webhooks with 1 KB JSON bodies, all built before
 * any measurement so the load generator only copies bytes. Every request carries its own
 * `X-GitHub-Delivery`, so a service answers "accepted" (never "duplicate") as long as it gets each
 * entry once: give each server its own {@link PoolCursor}, shared by all its connections and runs.
 */
import { randomUUID } from "node:crypto";
import { presetProfile } from "../src/intake/verify/presets.ts";
import { signRequest } from "../src/intake/verify/sign-request.ts";

/** Size of each request body, bytes. */
export const bodyBytes = 1_024;

export interface SignedRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export class SignedPool {
  private constructor(private readonly requests: readonly SignedRequest[]) {}

  /** Signs `size` unique requests for a github-preset source with `secret`. */
  static build(size: number, secret: string): SignedPool {
    const profile = presetProfile("github");
    const nowMs = Date.now();
    const requests: SignedRequest[] = new Array(size);
    for (let i = 0; i < size; i++) {
      // GitHub's X-GitHub-Delivery is a random GUID; random ids also make the store's index inserts as
      // scattered as in production (sequential ids would flatter it).
      const id = randomUUID();
      const body = Buffer.from(payload(bodyBytes, id, i), "utf8");
      requests[i] = {
        body,
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          ...signRequest(profile, secret, { body, nowMs, id }),
        },
      };
    }
    return new SignedPool(requests);
  }

  get size(): number {
    return this.requests.length;
  }

  /** An independent walk through the pool, from its start. */
  cursor(): PoolCursor {
    return new PoolCursor(this.requests);
  }
}

export class PoolCursor {
  private index = 0;
  private wraps = 0;

  constructor(private readonly requests: readonly SignedRequest[]) {}

  /** Entries handed out so far. */
  get used(): number {
    return this.wraps * this.requests.length + this.index;
  }

  /** Times the cursor ran past the end and started over: a service answers those repeats "duplicate". */
  get wrapped(): number {
    return this.wraps;
  }

  next(): SignedRequest {
    if (this.index >= this.requests.length) {
      this.wraps++;
      this.index = 0;
    }
    return this.requests[this.index++] as SignedRequest;
  }
}

/** A push-like JSON payload of exactly `size` bytes (ASCII), unique through `id`. */
function payload(size: number, id: string, sequence: number): string {
  const fields = {
    id,
    ref: "refs/heads/main",
    before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    after: "76ae82c7b1a177c8d03f9e96e0adf2466113728f",
    repository: { id: 1_296_269, full_name: "acme/api", private: true },
    pusher: { name: "octocat", email: "octocat@example.com" },
    sequence,
    padding: "",
  };
  fields.padding = "x".repeat(Math.max(0, size - JSON.stringify(fields).length));
  return JSON.stringify(fields);
}
