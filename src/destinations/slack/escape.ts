/**
 * Slack's mrkdwn control characters: `&`, `<` and `>` must be sent as entities, or text such as
 * `<!channel>` or `<https://evil|docs>` becomes a mention or a disguised link.
 */
export function escapeSlack(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
