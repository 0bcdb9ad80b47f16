/**
 * The YAML file's shape, node by node (DESIGN.md §3 sketch). Every object is strict: an unknown key is
 * a problem, so a typo (`prest:`, `signatureHeadr:`) fails loudly instead of silently weakening
 * verification. Nodes are parsed one at a time (tenant, then each source, destination, route) so one
 * broken node does not hide the problems of its siblings. Semantic rules (secrets resolve, routes
 * name existing ids, placeholders are known) are in the compile-*.ts files.
 */
import { z } from "zod";
import { parseJsonPath } from "../intake/verify/json-path.ts";
import { presetNames } from "../intake/verify/spec.ts";
import { isRedactionKind, redactionKinds } from "../redaction/kinds.ts";
import { secretRefSchema } from "./secrets.ts";
import { closest, kindOf } from "./zod-issues.ts";

const slugPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Tenant, source, destination ids: they appear in URLs, metric labels and idempotency keys. */
export const slugSchema = z.string().regex(slugPattern, {
  error: (issue) =>
    `expected an id of lowercase letters, digits, "_" and "-" (starting with a letter or digit, at most 63 characters), got ${JSON.stringify(issue.input)}`,
});

/** An HTTP header name: an RFC 9110 token. */
export const headerNamePattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A header name, lower-cased: Node hands headers to intake lower-cased. */
export const headerNameSchema = z
  .string()
  .regex(headerNamePattern, { error: "expected an HTTP header name" })
  .transform((name) => name.toLowerCase());

/**
 * `$.id`, `$.data.object.id`, `$.items[0].id`, `$["x-id"]`: where a value sits in a JSON body. Checked
 * with intake's own parser, so a path that loads is a path intake can read.
 */
export const jsonPathSchema = z.string().superRefine((path, ctx) => {
  let steps: readonly unknown[] = [];
  try {
    steps = parseJsonPath(path);
  } catch {
    // parseJsonPath's message repeats the path in its own format; ours names the field instead.
  }
  if (steps.length === 0) {
    ctx.addIssue({
      code: "custom",
      message: 'expected a JSON path like $.id, $.data.items[0].id or $["x-id"]',
    });
  }
});

/** A media type without parameters, lower-cased (`application/json`). */
export const mediaTypeSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/, {
    error: "expected a media type like application/json",
  })
  .transform((type) => type.toLowerCase());

const nonEmpty = z.string().min(1);

/** Where a value lives in a request: exactly one of a header or a JSON path. */
export const fieldRefSchema = z
  .strictObject({ header: headerNameSchema.optional(), jsonPath: jsonPathSchema.optional() })
  .refine((ref) => (ref.header === undefined) !== (ref.jsonPath === undefined), {
    error: "set exactly one of header or jsonPath",
  });

/** A two-sided timestamp window in seconds: 1 s to 1 day. */
export const toleranceSecondsSchema = z.int().min(1).max(86_400);

/** Upper bound of both rate limit numbers: far beyond any real limit, still exact in a double. */
export const rateLimitMax = 1_000_000_000;

/** A positive number (an integer when `integer`) up to `rateLimitMax`, with one problem line per field. */
function positiveUpToMax(integer: boolean) {
  const expected = integer ? "expected a positive integer" : "expected a positive number";
  return z
    .number({
      // Undefined defers to the generic wording ("required"); YAML's .inf and .nan are refused here.
      error: (issue) =>
        issue.input === undefined
          ? undefined
          : `${expected}, got ${typeof issue.input === "number" ? String(issue.input) : kindOf(issue.input)}`,
    })
    .superRefine((n, ctx) => {
      if (!(n > 0) || (integer && !Number.isInteger(n))) ctx.addIssue({ code: "custom", message: expected });
      else if (n > rateLimitMax) ctx.addIssue({ code: "custom", message: `must be at most ${rateLimitMax}` });
    });
}

/**
 * A token bucket (`RateLimitConfig`): up to `capacity` requests at once after a quiet period, then
 * `refillPerSecond` on average (fractional: 0.5 = one every 2 s).
 */
export const rateLimitSchema = z.strictObject({
  capacity: positiveUpToMax(true),
  refillPerSecond: positiveUpToMax(false),
});

/** The document: optional `settings:` and `tenants:`. */
export const topLevelSchema = z.strictObject({
  /** Tuning knobs; validated against tuning.ts's table. */
  settings: z.unknown().optional(),
  tenants: z.array(z.unknown()).optional(),
});

/**
 * A tenant; its children are parsed one by one in compile-tenants.ts, and so are its two limits
 * (`rateLimitSchema`), so a typo in a limit does not hide the problems of the tenant's sources.
 */
export const tenantSchema = z.strictObject({
  id: slugSchema,
  /** Jira/ServiceNow connections (`tenantProvidersSchema`), each block parsed on its own. */
  providers: z.unknown().optional(),
  /** Delivery: replaces the env default `guards.rateLimit` for this tenant's buckets. */
  rateLimit: z.unknown().optional(),
  /** Intake: one bucket shared by all the tenant's sources. */
  intakeRateLimit: z.unknown().optional(),
  /** The tenant's redaction policy (`redactionSchema`), parsed on its own. */
  redaction: z.unknown().optional(),
  /** The tenant's approvals policy (compile-approvals.ts), parsed on its own. */
  approvals: z.unknown().optional(),
  sources: z.array(z.unknown()).default([]),
  destinations: z.array(z.unknown()).default([]),
  routes: z.array(z.unknown()).default([]),
});

/** `providers:` on a tenant; each block is parsed on its own so one broken block hides nothing. */
export const tenantProvidersSchema = z.strictObject({
  jira: z.unknown().optional(),
  servicenow: z.unknown().optional(),
  slack: z.unknown().optional(),
});

/**
 * `providers.jira` (JiraProviderConfig). `url` and `email` may be literal or `env:`/`file:`
 * references; the token only a reference. Without `email` the token is sent as a bearer token (Data
 * Center PAT); with it, Basic email:token (Cloud).
 */
export const jiraProviderSchema = z.strictObject({
  url: nonEmpty,
  email: nonEmpty.optional(),
  token: secretRefSchema,
});

/**
 * `providers.servicenow` (ServiceNowProviderConfig). `instance`: a host name (https implied) or a full
 * URL, like `SERVICENOW_INSTANCE`; it and `username` may be literal or references, the password only
 * a reference.
 */
export const serviceNowProviderSchema = z.strictObject({
  instance: nonEmpty,
  username: nonEmpty,
  password: secretRefSchema,
});

/** A Slack workspace id: `T…` (a team) or `E…` (an Enterprise Grid org), as Slack sends `team_id`. */
export const slackTeamIdSchema = z.string().regex(/^[TE][A-Z0-9]{2,20}$/, {
  error: (issue) =>
    `expected a Slack workspace id (T… or E…, upper-case letters and digits), got ${JSON.stringify(issue.input)}`,
});

/**
 * `providers.slack` (TenantSlackConfig): the tenant's Slack app. Secrets and tokens only as
 * references. `signingSecrets` (several = rotation) turn on `POST /slack/*` for the tenant's `teams`;
 * `appToken` turns on Socket Mode; `botToken` is what the Slack destination posts with.
 */
export const slackProviderSchema = z.strictObject({
  signingSecrets: z.array(secretRefSchema).min(1).optional(),
  teams: z.array(slackTeamIdSchema).default([]),
  botToken: secretRefSchema.optional(),
  appToken: secretRefSchema.optional(),
});

/** A source: `preset` or `verify` (exactly one), secrets, and optional overrides of the profile. */
export const sourceSchema = z.strictObject({
  id: slugSchema,
  preset: z
    .enum(presetNames, {
      error: (issue) =>
        `unknown preset ${JSON.stringify(issue.input)}; known presets: ${presetNames.join(", ")}`,
    })
    .optional(),
  /** `none`, a custom HMAC block, or `{ token: … }`: dispatched in compile-verify.ts. */
  verify: z.unknown().optional(),
  /** Several = rotation: any one may match. */
  secrets: z.array(secretRefSchema).optional(),
  eventId: fieldRefSchema.optional(),
  eventType: fieldRefSchema.optional(),
  toleranceSeconds: toleranceSecondsSchema.optional(),
  contentTypes: z.array(mediaTypeSchema).min(1).optional(),
  /** Intake limit of this source (SourceConfig.intakeRateLimit): 429 + Retry-After beyond it. */
  rateLimit: rateLimitSchema.optional(),
  /** Where payloads keep the canonical event fields (SourceConfig.fields). */
  fields: z
    .strictObject({
      severity: fieldRefSchema.optional(),
      subject: fieldRefSchema.optional(),
      category: fieldRefSchema.optional(),
      fingerprint: fieldRefSchema.optional(),
    })
    .optional(),
});

/** A signature scheme for any HMAC-signing provider, no code needed. */
export const hmacVerifySchema = z.strictObject({
  algorithm: z.enum(["sha1", "sha256", "sha512"]),
  signatureHeader: headerNameSchema,
  signaturePrefix: nonEmpty.optional(),
  signatureSeparator: nonEmpty.optional(),
  encoding: z.enum(["hex", "base64"]),
  keyEncoding: z.enum(["utf8", "base64", "whsec"]).default("utf8"),
  /** Default `{body}`: the smallest template that still authenticates the payload. */
  signedContent: nonEmpty.default("{body}"),
  timestampHeader: headerNameSchema.optional(),
  timestampUnit: z.enum(["s", "ms"]).optional(),
  toleranceSeconds: toleranceSecondsSchema.optional(),
  idHeader: headerNameSchema.optional(),
  idField: jsonPathSchema.optional(),
  typeHeader: headerNameSchema.optional(),
  typeField: jsonPathSchema.optional(),
});
export type HmacVerifyNode = z.output<typeof hmacVerifySchema>;

/** A shared secret sent as-is in a header. */
export const tokenVerifySchema = z.strictObject({
  token: z.strictObject({ header: headerNameSchema, prefix: nonEmpty.optional() }),
});

/** A redaction kind (`email`, `token`, …; redaction/kinds.ts), with a "did you mean" for typos. */
const redactionKindSchema = z.string().superRefine((kind, ctx) => {
  if (isRedactionKind(kind)) return;
  const guess = closest(kind, redactionKinds);
  const shown = JSON.stringify(kind.slice(0, 40));
  ctx.addIssue({
    code: "custom",
    message:
      guess === undefined
        ? `unknown redaction kind ${shown}; known kinds: ${redactionKinds.join(", ")}`
        : `unknown redaction kind ${shown} (did you mean "${guess}"?)`,
  });
});

/**
 * `redaction:` on a tenant (RedactionPolicyOptions, compiled by compile-redaction.ts). Every key is
 * optional: `{}` is the default policy (every kind, namespaces redacted, nothing allowlisted).
 */
export const redactionSchema = z.strictObject({
  /** Kinds to redact; default every kind. `[]` turns redaction into a no-op for the tenant. */
  rules: z.array(redactionKindSchema).optional(),
  namespaces: z
    .strictObject({
      /** `redact`: `[REDACTED_NAMESPACE]`; `hash`: `ns-<10 hex>` keyed by `hashKey`. */
      mode: z.enum(["redact", "hash"]).default("redact"),
      /** A secret reference; its value (UTF-8, at least 16 bytes) keys the hash. Required for `hash`. */
      hashKey: secretRefSchema.optional(),
      /** Namespaces that pass through: exact names, or prefixes ending in `*`. */
      allow: z.array(z.string()).default([]),
      /** Also redact bare mentions of namespaces seen in the same event. Default true. */
      mentions: z.boolean().optional(),
    })
    .optional(),
  /** Tenant-defined patterns (redaction/extra-pattern.ts says what is accepted). */
  extraPatterns: z
    .array(
      z.strictObject({
        name: nonEmpty,
        pattern: nonEmpty,
        replacement: z.string().optional(),
        flags: z.string().optional(),
      }),
    )
    .optional(),
});
export type RedactionNode = z.output<typeof redactionSchema>;

/**
 * `templates:` on a destination: part name → Liquid source, or `{ file: /path }` (relative paths
 * start at the config file's directory). Part names are checked per type in compile-templates.ts.
 */
export const destinationTemplatesSchema = z.record(
  z.string(),
  z.union([z.string(), z.strictObject({ file: nonEmpty })], {
    error: "expected a Liquid template (a string) or { file: /path/to/template.liquid }",
  }),
);

/** The keys every destination type shares: redaction opt-out and templates. */
const destinationCommonShape = {
  /** `false`: events go out unredacted (a warning at startup names the destination). Default true. */
  redact: z.boolean().default(true),
  templates: destinationTemplatesSchema.optional(),
};

/** Only `type` is read first, to pick the type's own strict schema. */
export const destinationTypeSchema = z.looseObject({ type: z.string() });

/** A destination's whole-request timeout: at most 5 min, and below the lease (checked at compile). */
const timeoutMsSchema = z.int().min(1).max(300_000).default(30_000);

/** `type: webhook`: POST the event as JSON, optionally signed the Standard Webhooks way. */
export const webhookDestinationSchema = z.strictObject({
  id: slugSchema,
  type: z.literal("webhook"),
  /** An http(s) URL, or a secret reference when the URL itself is a credential (Slack incoming webhooks). */
  url: nonEmpty,
  secret: secretRefSchema.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** Whole-request timeout; at most 5 min, and below the lease (checked at compile). */
  timeoutMs: timeoutMsSchema,
  /** This destination's own delivery bucket, instead of the tenant's. */
  rateLimit: rateLimitSchema.optional(),
  ...destinationCommonShape,
});

const scalarSchema = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/** `{ data.action: opened, severity: [high, critical] }`: field → value or values. Numbers match as text. */
const fieldMatchSchema = z.record(z.string(), z.union([scalarSchema, z.array(scalarSchema).min(1)]));

/**
 * TicketIdentityConfig's keys, shared by `jira` and `servicenow`. Field paths and severities are
 * checked against the event's shape in compile-ticket-identity.ts.
 */
const ticketIdentityShape = {
  /** Event paths whose values form the fingerprint; absent: the event's own fingerprint, else its id. */
  fingerprintFields: z.array(nonEmpty).min(1).optional(),
  /** Default `{ data.status: resolved }`; `{}` = no event resolves a ticket. */
  resolvedWhen: fieldMatchSchema.optional(),
  reopenOnRecurrence: z.boolean().default(false),
};

/** A Jira project key: `OPS`, `PLAT2`, `SEC_OPS`. */
const jiraProjectKeySchema = z.string().regex(/^[A-Z][A-Z0-9_]{1,9}$/, {
  error: (issue) =>
    `expected a Jira project key (an upper-case letter, then 1 to 9 upper-case letters, digits or "_", like OPS), got ${typeof issue.input === "string" ? JSON.stringify(issue.input.slice(0, 40)) : kindOf(issue.input)}`,
});

/** A Jira label: Jira splits labels on spaces, so one with a space would silently become two. */
const jiraLabelSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^\S*$/, { error: "a Jira label cannot contain spaces" });

/** `type: jira` (JiraDestinationConfig); severity keys of `priorityBySeverity` are checked at compile. */
export const jiraDestinationSchema = z.strictObject({
  id: slugSchema,
  type: z.literal("jira"),
  project: jiraProjectKeySchema,
  issueType: nonEmpty.default("Task"),
  labels: z.array(jiraLabelSchema).default([]),
  /** Merged over `defaultJiraPriorityBySeverity`. */
  priorityBySeverity: z.record(z.string(), nonEmpty).optional(),
  resolveTransition: nonEmpty.default("Done"),
  reopenTransition: nonEmpty.default("To Do"),
  timeoutMs: timeoutMsSchema,
  rateLimit: rateLimitSchema.optional(),
  ...ticketIdentityShape,
  ...destinationCommonShape,
});

/** ServiceNow urgency/impact: "1" (high) to "3" (low); YAML numbers are accepted as their text. */
const serviceNowLevelSchema = z.preprocess(
  (value) => (typeof value === "number" ? String(value) : value),
  z.enum(["1", "2", "3"]),
);

/** `type: servicenow` (ServiceNowDestinationConfig); severity keys of the maps are checked at compile. */
export const serviceNowDestinationSchema = z.strictObject({
  id: slugSchema,
  type: z.literal("servicenow"),
  /** Goes into the Table API path (`/api/now/table/<table>`). */
  table: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,79}$/, {
      error: "expected a table name like incident or u_alerts (lower-case letters, digits and _)",
    })
    .default("incident"),
  /** Merged over `defaultServiceNowLevelBySeverity`. */
  urgencyBySeverity: z.record(z.string(), serviceNowLevelSchema).optional(),
  impactBySeverity: z.record(z.string(), serviceNowLevelSchema).optional(),
  assignmentGroup: nonEmpty.optional(),
  callerId: nonEmpty.optional(),
  category: nonEmpty.optional(),
  closeCode: nonEmpty.default("Resolved by caller"),
  timeoutMs: timeoutMsSchema,
  rateLimit: rateLimitSchema.optional(),
  ...ticketIdentityShape,
  ...destinationCommonShape,
});

/** A Slack conversation id: `C…` (channel), `G…` (private channel, legacy) or `D…` (DM). */
const slackChannelSchema = z.string().regex(/^[CGD][A-Z0-9]{6,}$/, {
  error: (issue) =>
    `expected a Slack channel id like C0123456789 (the channel's "Copy link" ends in it; names like #alerts are not accepted because chat.update needs the id), got ${typeof issue.input === "string" ? JSON.stringify(issue.input.slice(0, 40)) : kindOf(issue.input)}`,
});

/** `type: slack` (SlackDestinationConfig). */
export const slackDestinationSchema = z.strictObject({
  id: slugSchema,
  type: z.literal("slack"),
  channel: slackChannelSchema,
  /** Bot token reference; absent: `SLACK_BOT_TOKEN`. */
  token: secretRefSchema.optional(),
  /** Same fingerprint again: `update` the first message, reply in its `thread` (default), or `post` anew. */
  onRepeat: z.enum(["update", "thread", "post"]).default("thread"),
  timeoutMs: timeoutMsSchema,
  rateLimit: rateLimitSchema.optional(),
  ...destinationCommonShape,
});

/** A route: sources (optional), a `when` match (optional) and destinations. */
export const routeSchema = z.strictObject({
  /** Source ids; absent = every source of the tenant. */
  from: z.array(nonEmpty).min(1).optional(),
  /** `type` becomes RouteConfig.types; every other key a field predicate. Numbers match as text. */
  when: fieldMatchSchema.optional(),
  to: z.array(nonEmpty).min(1),
  /**
   * Templates for the events of this route, by destination id (one of `to`): each a `templates:`
   * mapping as on a destination, checked against that destination's type (compile-templates.ts).
   */
  templates: z.record(z.string(), destinationTemplatesSchema).optional(),
});
