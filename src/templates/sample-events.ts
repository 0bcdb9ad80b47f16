/**
 * Two realistic events every template is rendered against when it is compiled (template-set.ts), so
 * a template that cannot render, or renders broken JSON, shows up at `zen config check` rather than
 * on the first delivery: a Falco runtime alert (security tool, severity, Kubernetes resource) and a
 * GitHub push (SaaS webhook, none of those). Payloads follow reference/sources.md §8.1 (Falco fixture
 * A) and GitHub's push event, shortened.
 */
import type { ZenEvent } from "../domain/event.ts";
import type { TemplateContext } from "./template-context.ts";

/** Falco fixture A: a shell spawned in a container with an attached terminal. */
export const falcoSampleEvent: ZenEvent = {
  id: "0b9d1c8e-5d4f-4d6a-9a57-1c2f3e4d5a6b",
  tenant: "acme",
  source: "falco",
  type: "Terminal shell in container",
  category: "security",
  severity: "low",
  resource: { kind: "Pod", namespace: "sandbox", name: "shell-demo" },
  subject: "A shell was spawned in a container with an attached terminal",
  data: {
    hostname: "ip-10-0-3-17",
    output:
      "2026-10-01T11:59:58.123456789+0000: Notice A shell was spawned in a container with an attached terminal | evt_type=execve user=root user_uid=0 user_loginuid=-1 process=sh proc_exepath=/bin/busybox parent=runc command=sh -c id terminal=34816 exe_flags=EXE_WRITABLE|EXE_LOWER_LAYER container_id=9cc6d64c75d0 container_name=shell-demo container_image_repository=docker.io/library/alpine container_image_tag=3.20 k8s_pod_name=shell-demo k8s_ns_name=sandbox",
    output_fields: {
      "container.id": "9cc6d64c75d0",
      "container.image.repository": "docker.io/library/alpine",
      "container.image.tag": "3.20",
      "container.name": "shell-demo",
      "evt.arg.flags": "EXE_WRITABLE|EXE_LOWER_LAYER",
      "evt.time.iso8601": 1791201598123456800,
      "evt.type": "execve",
      "k8s.ns.name": "sandbox",
      "k8s.pod.name": "shell-demo",
      "proc.cmdline": "sh -c id",
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
  headers: { "content-type": "application/json" },
  receivedAt: "2026-10-01T11:59:58.412Z",
  fingerprint: "falco:terminal-shell-in-container:sandbox/shell-demo",
};

/** A GitHub `push` to `main`: no severity, category or resource; a compare link. */
export const githubPushSampleEvent: ZenEvent = {
  id: "7f0e9c60-9e1b-11f0-8a3d-2f1b5c0e7a11",
  tenant: "acme",
  source: "gh",
  type: "push",
  subject: "acme/api: 2 commits to main",
  data: {
    ref: "refs/heads/main",
    before: "9049f1265b7d61be4a8904a9a27120d2064dab3b",
    after: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
    created: false,
    deleted: false,
    forced: false,
    compare: "https://github.com/acme/api/compare/9049f1265b7d...0d1a26e67d8f",
    commits: [
      {
        id: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        message: "Fix the retry budget\n\nThe budget was charged twice on 429.",
        timestamp: "2026-10-01T11:58:01Z",
        url: "https://github.com/acme/api/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
        author: { name: "Octo Cat", username: "octocat" },
        added: [],
        removed: [],
        modified: ["src/retry.ts"],
      },
      {
        id: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
        message: 'Quote "names" in <logs> & metrics',
        timestamp: "2026-10-01T11:59:12Z",
        url: "https://github.com/acme/api/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
        author: { name: "Octo Cat", username: "octocat" },
        added: ["src/quote.ts"],
        removed: [],
        modified: [],
      },
    ],
    head_commit: {
      id: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
      message: 'Quote "names" in <logs> & metrics',
    },
    repository: {
      id: 1296269,
      full_name: "acme/api",
      html_url: "https://github.com/acme/api",
      default_branch: "main",
    },
    pusher: { name: "octocat" },
    sender: { login: "octocat", id: 1, type: "User" },
  },
  headers: { "x-github-event": "push", "content-type": "application/json" },
  receivedAt: "2026-10-01T11:59:13.250Z",
};

/** The sample contexts, named for warnings (`… (rendering the sample falco event)`). */
export const sampleTemplateContexts: readonly { readonly name: string; readonly context: TemplateContext }[] =
  [
    { name: "falco", context: { event: falcoSampleEvent, delivery: { ref: "zd-4f1c0a9e2b7d3c65" } } },
    {
      name: "github push",
      context: { event: githubPushSampleEvent, delivery: { ref: "zd-9a2e61b0c4d87f13" } },
    },
  ];
