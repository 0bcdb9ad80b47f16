/**
 * The default templates, one per destination part (template-set.ts says which part uses which).
 * They render a template context (template-context.ts: `event`, `delivery`) and reproduce what the
 * destinations rendered before templates existed (jira/render-jira-issue.ts,
 * servicenow/render-incident.ts, webhook/render-body.ts), so switching to templates changes nothing
 * a user can see. Each is a Liquid source; lines are joined with "\n" so the exact output is visible.
 *
 * Conventions worth copying into your own templates:
 * - in JSON templates, every value goes through `| json` (quotes and escapes it; never hand-quote);
 * - in Slack text, event data goes through `| slack_escape` (no `<!channel>` pings from payloads);
 * - one-line parts end with `| squish` (whitespace and newlines collapsed) and `| truncate: n, "…"`.
 */

/**
 * Jira `summary`: `[SEVERITY] type — subject` (the resource when there is no subject; `type from
 * source` when neither), `Event` for an unknown type, one line, at most 255 characters (Jira's limit;
 * the destination still cuts whatever a custom template produces).
 */
export const jiraSummaryTemplate = [
  "{%- liquid",
  "  assign resource = event.resource | resource_text",
  "  assign about = event.subject | default: resource",
  "-%}",
  "{%- capture summary -%}",
  "  {% if event.severity != blank %}[{{ event.severity | upcase }}]{% endif %}",
  '  {% if event.type == blank or event.type == "unknown" %}Event{% else %}{{ event.type }}{% endif %}',
  "  {% if about != blank %}— {{ about }}{% else %}from {{ event.source }}{% endif %}",
  "{%- endcapture -%}",
  '{{ summary | squish | truncate: 255, "…" }}',
].join("\n");

/**
 * Jira `description`, light Markdown for `toAdf`: a sentence naming the event, the key facts as a
 * list, the data as pretty JSON (cut at 4 000 characters) and a footer with the delivery reference,
 * which the Jira destination looks for on a retry.
 */
export const jiraDescriptionTemplate = [
  "{%- assign resource = event.resource | resource_text -%}",
  "Event **{{ event.type | squish }}** from source `{{ event.source | squish }}` (tenant `{{ event.tenant | squish }}`).",
  "",
  "{% if event.severity != blank %}- Severity: {{ event.severity | squish }}",
  "{% endif %}{% if event.category != blank %}- Category: {{ event.category | squish }}",
  "{% endif %}{% if event.subject != blank %}- Subject: {{ event.subject | squish }}",
  "{% endif %}{% if resource != blank %}- Resource: {{ resource | squish }}",
  "{% endif %}{% if event.id != blank %}- Event id: {{ event.id | squish }}",
  "{% endif %}{% if event.receivedAt != blank %}- Received: {{ event.receivedAt | squish }}",
  "{% endif %}",
  "## Data",
  "```json",
  '{{ event.data | json: 2 | truncate: 4014, "\\n… (truncated)" }}',
  "```",
  "",
  "Sent by Zen Integrations · delivery {{ delivery.ref }}",
].join("\n");

/**
 * ServiceNow `short_description`: `[SEVERITY] subject (resource)`, `type from source` without a
 * subject, one line, at most 160 characters (the column's length).
 */
export const serviceNowShortDescriptionTemplate = [
  "{%- assign resource = event.resource | resource_text -%}",
  "{%- capture title -%}",
  "  {% if event.severity != blank %}[{{ event.severity | upcase }}]{% endif %}",
  "  {% if event.subject != blank %}{{ event.subject }}{% else %}{{ event.type }} from {{ event.source }}{% endif %}",
  "  {% if resource != blank %}({{ resource }}){% endif %}",
  "{%- endcapture -%}",
  '{{ title | squish | truncate: 160, "…" }}',
].join("\n");

/**
 * ServiceNow `description`: the title, the key facts one per line, the data as pretty JSON (cut at
 * 4 000 characters). Keep the `Event ID: <id>` line in custom templates: the ServiceNow destination
 * finds the incident an earlier attempt created by it.
 */
export const serviceNowDescriptionTemplate = [
  "{%- assign resource = event.resource | resource_text -%}",
  "{%- capture title -%}",
  "  {% if event.severity != blank %}[{{ event.severity | upcase }}]{% endif %}",
  "  {% if event.subject != blank %}{{ event.subject }}{% else %}{{ event.type }} from {{ event.source }}{% endif %}",
  "  {% if resource != blank %}({{ resource }}){% endif %}",
  "{%- endcapture -%}",
  "{{ title | squish }}",
  "",
  "Tenant: {{ event.tenant }}",
  "Source: {{ event.source }}",
  "Event type: {{ event.type }}",
  "Event ID: {{ event.id }}",
  "{% if event.severity != blank %}Severity: {{ event.severity }}",
  "{% endif %}{% if event.category != blank %}Category: {{ event.category }}",
  "{% endif %}{% if resource != blank %}Resource: {{ resource }}",
  "{% endif %}Received at: {{ event.receivedAt }}",
  "",
  "Data:",
  '{{ event.data | json: 2 | truncate: 4027, "\\n… (cut at 4000 characters)" }}',
  "",
  "Created by zen-integrations.",
].join("\n");

/**
 * Slack `text`: the notification and accessibility fallback of the message, one line:
 * `🟠 [HIGH] type — subject`, escaped for Slack, at most 3 000 characters. Escaping comes before
 * cutting, so the limit holds (a cut can only break an entity, never make a `<`).
 */
export const slackTextTemplate = [
  "{%- liquid",
  "  assign resource = event.resource | resource_text",
  "  assign about = event.subject | default: resource",
  "-%}",
  "{%- capture text -%}",
  "  {{ event.severity | severity_emoji }}",
  "  {% if event.severity != blank %}[{{ event.severity | upcase }}]{% endif %}",
  "  {{ event.type }}",
  "  {% if about != blank %}— {{ about }}{% else %}from {{ event.source }}{% endif %}",
  "{%- endcapture -%}",
  '{{ text | squish | slack_escape | truncate: 3000, "…" }}',
].join("\n");

/**
 * Slack `blocks`, a JSON array of Block Kit blocks: a header (severity emoji, severity, type), a
 * section (subject, then fields: type, severity, category, resource), a context line (source,
 * tenant, received time, event id) and, when the payload has a link (the first of `data.html_url`,
 * `data.compare`, `data.url`, `data.link`; only a well-formed http(s) URL of at most 3 000 characters
 * without credentials), an "Open" button. Texts are cut to Slack's limits (header 150, section 3 000, field 2 000 characters) and
 * escaped, the plain-text header too (defence in depth: Slack does not parse it for mentions).
 */
export const slackBlocksTemplate = [
  "{%- liquid",
  "  assign resource = event.resource | resource_text",
  "  assign about = event.subject | default: resource",
  "  assign link = event.data.html_url | default: event.data.compare | default: event.data.url | default: event.data.link | http_url",
  "-%}",
  "{%- capture header -%}",
  "  {{ event.severity | severity_emoji }} {% if event.severity != blank %}{{ event.severity | upcase }} · {% endif %}{{ event.type }}",
  "{%- endcapture -%}",
  "{%- capture headline -%}",
  "  {% if about != blank %}*{{ about | squish | slack_escape | truncate: 2900, '…' }}*",
  "  {%- else %}`{{ event.type | slack_escape }}` from `{{ event.source | slack_escape }}`{% endif %}",
  "{%- endcapture -%}",
  "{%- capture context -%}",
  "  Source `{{ event.source | slack_escape }}` · tenant `{{ event.tenant | slack_escape }}`",
  '  · received {{ event.receivedAt | date: "%Y-%m-%d %H:%M:%S %z" | slack_escape }} · event `{{ event.id | slack_escape }}`',
  "{%- endcapture -%}",
  "[",
  '  {"type": "header", "text": {"type": "plain_text", "emoji": true, "text": {{ header | squish | slack_escape | truncate: 150, "…" | json }}}},',
  '  {"type": "section", "text": {"type": "mrkdwn", "text": {{ headline | truncate: 3000, "…" | json }}}, "fields": [',
  '    {"type": "mrkdwn", "text": {{ event.type | slack_escape | truncate: 1900, "…" | prepend: "*Type*\\n" | json }}}',
  '    {%- if event.severity != blank %}, {"type": "mrkdwn", "text": {{ event.severity | upcase | slack_escape | truncate: 1900, "…" | prepend: "*Severity*\\n" | json }}}{% endif %}',
  '    {%- if event.category != blank %}, {"type": "mrkdwn", "text": {{ event.category | slack_escape | truncate: 1900, "…" | prepend: "*Category*\\n" | json }}}{% endif %}',
  '    {%- if resource != blank %}, {"type": "mrkdwn", "text": {{ resource | slack_escape | truncate: 1900, "…" | prepend: "*Resource*\\n" | json }}}{% endif %}',
  "  ]},",
  '  {"type": "context", "elements": [{"type": "mrkdwn", "text": {{ context | squish | truncate: 2000, "…" | json }}}]}',
  "  {%- if link != blank and link.size <= 3000 %},",
  '  {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": {{ link | json }}}]}',
  "  {%- endif %}",
  "]",
].join("\n");

/**
 * Observation fields (zen-watcher's Observation CRD, legacy style: `category`, `severity`,
 * `eventType`, plus `resource` and `details`), a JSON object. The destination adds `source`,
 * `detectedAt`, labels and TTL. `category` must be one of the CRD's enum (`security`, `compliance`,
 * `performance`, `operations`, `cost`): anything else becomes `security`, zen-watcher's default;
 * `severity` defaults to `info`; `eventType` is the type normalized to `^[a-z0-9_]+$`
 * (`custom_event` when empty); `details` holds the event id, type, subject, fingerprint and data.
 */
export const observationFieldsTemplate = [
  "{%- assign category = event.category | downcase -%}",
  "{",
  '  "category": {% case category %}{% when "security", "compliance", "performance", "operations", "cost" %}{{ category | json }}{% else %}"security"{% endcase %},',
  '  "severity": {{ event.severity | default: "info" | json }},',
  '  "eventType": {{ event.type | underscore_slug | default: "custom_event" | json }},',
  "  {%- if event.resource != nil %}",
  '  "resource": {{ event.resource | json }},',
  "  {%- endif %}",
  '  "details": {',
  '    "eventId": {{ event.id | json }},',
  '    "type": {{ event.type | json }},',
  "    {%- if event.subject != nil %}",
  '    "subject": {{ event.subject | json }},',
  "    {%- endif %}",
  "    {%- if event.fingerprint != nil %}",
  '    "fingerprint": {{ event.fingerprint | json }},',
  "    {%- endif %}",
  '    "data": {{ event.data | json }}',
  "  }",
  "}",
].join("\n");

/**
 * A webhook body template equal (as JSON) to the built-in body (webhook/render-body.ts): the canonical
 * event without intake headers. Not applied by default (see template-set.ts): a starting point for
 * users who want to reshape the body.
 */
export const webhookBodyTemplate = [
  "{",
  '  "id": {{ event.id | json }},',
  '  "tenant": {{ event.tenant | json }},',
  '  "source": {{ event.source | json }},',
  '  "type": {{ event.type | json }},',
  '  {%- if event.category != nil %}"category": {{ event.category | json }},{% endif %}',
  '  {%- if event.severity != nil %}"severity": {{ event.severity | json }},{% endif %}',
  '  {%- if event.resource != nil %}"resource": {{ event.resource | json }},{% endif %}',
  '  {%- if event.subject != nil %}"subject": {{ event.subject | json }},{% endif %}',
  '  "data": {{ event.data | json }},',
  '  "receivedAt": {{ event.receivedAt | json }}',
  '  {%- if event.fingerprint != nil %}, "fingerprint": {{ event.fingerprint | json }}{% endif %}',
  "}",
].join("\n");
