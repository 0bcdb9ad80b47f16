/**
 * The Slack messages of an approval (Block Kit, providers.md §1.7), each with a plain-text fallback:
 * the request with Approve / Reject buttons, the progress after a first of two approvals, and the
 * outcome that replaces it (no buttons). Text from requests (summary, details, requester) is escaped
 * for mrkdwn so it cannot forge mentions or links.
 */
import { escapeSlack } from "../destinations/slack/escape.ts";
import type { SlackBlock, SlackMessage } from "../destinations/slack/slack-api.ts";
import type { Approval, Vote } from "./approval.ts";

/** The `action_id` prefix intake routes to the approvals handler. */
export const approvalActionPrefix = "zen_approval:";
export const approveActionId = `${approvalActionPrefix}approve`;
export const rejectActionId = `${approvalActionPrefix}reject`;

/** Block Kit limits we stay under (providers.md §1.7). */
const limits = { headerChars: 150, sectionChars: 3000 } as const;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A Slack user id as a mention; free text (a source, a name) escaped. */
function who(requester: string): string {
  return /^[UW][A-Z0-9]{2,30}$/.test(requester) ? `<@${requester}>` : escapeSlack(requester);
}

/** `<!date^…>`: Slack shows it in the reader's time zone; the ISO text is the fallback. */
function slackDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

function factsBlock(approval: Approval): SlackBlock {
  return {
    type: "section",
    fields: [
      { type: "mrkdwn", text: `*Action*\n${escapeSlack(approval.action)}` },
      { type: "mrkdwn", text: `*Risk*\n${approval.risk}` },
      { type: "mrkdwn", text: `*Requested by*\n${who(approval.requester)}` },
      { type: "mrkdwn", text: `*Expires*\n${slackDate(approval.expiresAt)}` },
    ],
  };
}

function summaryBlocks(approval: Approval): SlackBlock[] {
  const text = approval.details === undefined ? approval.summary : `${approval.summary}\n${approval.details}`;
  return [
    {
      type: "header",
      text: { type: "plain_text", text: cut(`Approval needed: ${approval.action}`, limits.headerChars) },
    },
    { type: "section", text: { type: "mrkdwn", text: cut(escapeSlack(text), limits.sectionChars) } },
    factsBlock(approval),
  ];
}

function mentions(votes: readonly Vote[]): string {
  return votes.map((v) => `<@${v.slackUserId}>`).join(" and ");
}

function buttons(approval: Approval): SlackBlock {
  return {
    type: "actions",
    // A new block id per version: Slack wants a fresh one whenever the message changes.
    block_id: `zen_approval:${approval.id}:v${approval.version}`,
    elements: [
      {
        type: "button",
        action_id: approveActionId,
        text: { type: "plain_text", text: "Approve" },
        style: "primary",
        value: approval.id,
      },
      {
        type: "button",
        action_id: rejectActionId,
        text: { type: "plain_text", text: "Reject" },
        style: "danger",
        value: approval.id,
      },
    ],
  };
}

/** The request as first posted (and re-rendered after a first of two approvals). */
export function requestMessage(approval: Approval): SlackMessage {
  const needs =
    approval.requiredApprovals > 1
      ? `Needs ${approval.requiredApprovals} distinct approvers.`
      : "Needs one approver.";
  const progress =
    approval.approvals.length > 0
      ? ` Approved so far by ${mentions(approval.approvals)}; ${approval.requiredApprovals - approval.approvals.length} more needed.`
      : "";
  const expires = new Date(approval.expiresAt).toISOString();
  return {
    text: `Approval needed: ${approval.action} (risk ${approval.risk}) requested by ${approval.requester}: ${approval.summary}. Expires ${expires}. Approve or reject in Slack.`,
    blocks: [
      ...summaryBlocks(approval),
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: `${needs}${progress} Approval id \`${approval.id}\`` }],
      },
      buttons(approval),
    ],
  };
}

/** What replaces the request once it is final: the outcome and who decided, no buttons. */
export function outcomeMessage(approval: Approval): SlackMessage {
  let line: string;
  let text: string;
  switch (approval.status) {
    case "approved":
      line = `:white_check_mark: *Approved* by ${mentions(approval.approvals)}`;
      text = `Approved by ${approval.approvals.map((v) => v.slackUserId).join(" and ")}`;
      break;
    case "rejected":
      line = `:x: *Rejected* by ${approval.decidedBy ? mentions([approval.decidedBy]) : "an approver"}`;
      text = `Rejected by ${approval.decidedBy?.slackUserId ?? "an approver"}`;
      break;
    case "expired":
      line = ":hourglass: *Expired* before anyone decided";
      text = "Expired before anyone decided";
      break;
    case "pending":
      return requestMessage(approval);
    default: {
      const _exhaustive: never = approval.status;
      throw new Error(`unknown status ${String(_exhaustive)}`);
    }
  }
  const at = approval.decidedAt === undefined ? "" : ` at ${slackDate(approval.decidedAt)}`;
  return {
    text: `${approval.action} (risk ${approval.risk}): ${text}.`,
    blocks: [...summaryBlocks(approval), { type: "section", text: { type: "mrkdwn", text: `${line}${at}` } }],
  };
}
