/**
 * Posts webhooks signed the way GitHub signs them (preset `github`: HMAC-SHA256 of the body in
 * `X-Hub-Signature-256`, event id in `X-GitHub-Delivery`, type in `X-GitHub-Event`), so end-to-end
 * tests drive the real intake with requests a real provider would send.
 */
import { presetProfile } from "../../src/intake/verify/presets.ts";
import { signRequest } from "../../src/intake/verify/sign-request.ts";

export interface SignedPost {
  /** Service base URL (`http://127.0.0.1:port`). */
  readonly baseUrl: string;
  readonly tenant: string;
  readonly source: string;
  readonly secret: string;
  /** `X-GitHub-Delivery`: the event id. */
  readonly eventId: string;
  /** `X-GitHub-Event`: the event type. Default `push`. */
  readonly type?: string;
  /** JSON body. Default `{"ref":"refs/heads/main"}`. */
  readonly data?: unknown;
}

export interface PostResult {
  readonly status: number;
  readonly body: unknown;
}

/** Signs and posts one github-preset webhook to `/webhooks/{tenant}/{source}`. */
export async function postSignedGithub(post: SignedPost): Promise<PostResult> {
  const body = JSON.stringify(post.data ?? { ref: "refs/heads/main" });
  const headers = signRequest(presetProfile("github"), post.secret, {
    body,
    nowMs: Date.now(),
    id: post.eventId,
  });
  const response = await fetch(`${post.baseUrl}/webhooks/${post.tenant}/${post.source}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json", "x-github-event": post.type ?? "push" },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** Like {@link postSignedGithub}, but fails unless the service answered `200 accepted`. */
export async function acceptSignedGithub(post: SignedPost): Promise<void> {
  const result = await postSignedGithub(post);
  const body = result.body as { status?: string } | undefined;
  if (result.status !== 200 || body?.status !== "accepted") {
    throw new Error(`intake did not accept ${post.eventId}: ${result.status} ${JSON.stringify(result.body)}`);
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
