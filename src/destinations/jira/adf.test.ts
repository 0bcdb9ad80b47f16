import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { adfProblem } from "../../../test/fakes/fake-jira.ts";
import { type AdfDoc, adfLimits, adfPlainText, toAdf } from "./adf.ts";

/** Every text node in the document (any depth). */
function textNodes(node: unknown, out: { text: unknown; marks?: unknown }[] = []) {
  if (node === null || typeof node !== "object") return out;
  const n = node as { type?: unknown; text?: unknown; marks?: unknown; content?: unknown };
  if (n.type === "text") out.push({ text: n.text, marks: n.marks });
  if (Array.isArray(n.content)) for (const child of n.content) textNodes(child, out);
  return out;
}

const squash = (text: string) => text.replace(/\s+/g, "");

describe("toAdf", () => {
  test("paragraphs, hard breaks, headings, lists, code blocks, links", () => {
    const doc = toAdf(
      [
        "# Disk full",
        "Host db-01 at 98%",
        "see https://wiki.example.com/runbook.",
        "",
        "- first [runbook](https://wiki.example.com/r)",
        "* second with `code` and **bold**",
        "",
        "1. one",
        "2. two",
        "",
        "```json",
        '{"disk": "98%"}',
        "",
        "```",
        "---",
      ].join("\n"),
    );
    assert.deepEqual(doc, {
      type: "doc",
      version: 1,
      content: [
        { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "Disk full" }] },
        {
          type: "paragraph",
          content: [
            { type: "text", text: "Host db-01 at 98%" },
            { type: "hardBreak" },
            { type: "text", text: "see " },
            {
              type: "text",
              text: "https://wiki.example.com/runbook",
              marks: [{ type: "link", attrs: { href: "https://wiki.example.com/runbook" } }],
            },
            { type: "text", text: "." },
          ],
        },
        {
          type: "bulletList",
          content: [
            {
              type: "listItem",
              content: [
                {
                  type: "paragraph",
                  content: [
                    { type: "text", text: "first " },
                    {
                      type: "text",
                      text: "runbook",
                      marks: [{ type: "link", attrs: { href: "https://wiki.example.com/r" } }],
                    },
                  ],
                },
              ],
            },
            {
              type: "listItem",
              content: [
                {
                  type: "paragraph",
                  content: [
                    { type: "text", text: "second with " },
                    { type: "text", text: "code", marks: [{ type: "code" }] },
                    { type: "text", text: " and " },
                    { type: "text", text: "bold", marks: [{ type: "strong" }] },
                  ],
                },
              ],
            },
          ],
        },
        {
          type: "orderedList",
          attrs: { order: 1 },
          content: [
            { type: "listItem", content: [{ type: "paragraph", content: [{ type: "text", text: "one" }] }] },
            { type: "listItem", content: [{ type: "paragraph", content: [{ type: "text", text: "two" }] }] },
          ],
        },
        {
          type: "codeBlock",
          attrs: { language: "json" },
          content: [{ type: "text", text: '{"disk": "98%"}\n' }],
        },
        { type: "rule" },
      ],
    } satisfies AdfDoc);
    assert.equal(adfProblem(doc), undefined);
  });

  test("nothing to say gives an empty document, never an empty text node", () => {
    for (const input of ["", "   ", "\n\n\n", "#  ", "- ", "* \n- \n", "```\n```", "[](https://x.io)"]) {
      const doc = toAdf(input);
      assert.equal(adfProblem(doc), undefined, JSON.stringify(input));
      assert.ok(
        textNodes(doc).every((t) => typeof t.text === "string" && t.text.length > 0),
        JSON.stringify(input),
      );
    }
    assert.deepEqual(toAdf(""), { type: "doc", version: 1, content: [] });
    assert.deepEqual(toAdf("```\n```"), { type: "doc", version: 1, content: [{ type: "codeBlock" }] });
  });

  test("an unclosed fence runs to the end; code keeps markup literally and carries no marks", () => {
    const doc = toAdf("before\n```\n# not a heading\n- not a list [x](https://x.io)");
    assert.deepEqual(doc.content[1], {
      type: "codeBlock",
      content: [{ type: "text", text: "# not a heading\n- not a list [x](https://x.io)" }],
    });
  });

  test("only http(s) and mailto links become links", () => {
    const doc = toAdf("[x](javascript:alert(1)) [mail](mailto:ops@example.com) ftp://files.example.com");
    const marked = textNodes(doc).filter((t) => t.marks !== undefined);
    assert.deepEqual(marked, [
      { text: "mail", marks: [{ type: "link", attrs: { href: "mailto:ops@example.com" } }] },
    ]);
    assert.match(adfPlainText(doc), /\[x\]\(javascript:alert\(1\)\)/);
  });

  test("CRLF, control characters and huge inputs", () => {
    assert.equal(adfPlainText(toAdf("a\r\nb\u0000c\u0007")), "a\nbc");
    const huge = toAdf(`${"word ".repeat(20_000)}\n\n${"- item\n".repeat(5_000)}`);
    assert.ok(JSON.stringify(huge).length <= adfLimits.maxJsonChars);
    assert.match(adfPlainText(huge), /… \(truncated\)$/);
    assert.equal(adfProblem(huge), undefined);
  });

  test("property: any input gives a valid document with no empty text node and bounded size", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 400 }),
        fc.integer({ min: 40, max: 3_000 }),
        (input, max) => {
          const doc = toAdf(input, { maxJsonChars: max });
          assert.equal(adfProblem(doc), undefined);
          assert.ok(textNodes(doc).every((t) => typeof t.text === "string" && t.text.length > 0));
          assert.ok(JSON.stringify(doc).length <= Math.max(max, JSON.stringify(toAdf("")).length));
        },
      ),
      { numRuns: 500 },
    );
  });

  test("property: plain text round-trips (same characters, whitespace aside)", () => {
    // No Markdown syntax characters: every character must survive, in order.
    const plain = fc.string({
      unit: fc.constantFrom(..."abcXYZ éü✓ 中\t\n:/.,;!?=&%@$'\"".split("")),
      maxLength: 300,
    });
    fc.assert(
      fc.property(plain, (input) => {
        assert.equal(squash(adfPlainText(toAdf(input))), squash(input));
      }),
      { numRuns: 500 },
    );
  });

  test("property: Markdown built from blocks gives back exactly the blocks' text", () => {
    const word = fc.stringMatching(/^[a-zA-Z0-9éü✓]{1,8}$/);
    const words = fc.array(word, { minLength: 1, maxLength: 6 }).map((w) => w.join(" "));
    const url = word.map((w) => `https://example.com/${w}`);
    const inlineText = fc.oneof(
      words.map((t) => ({ md: t, text: t })),
      fc.tuple(words, url).map(([t, u]) => ({ md: `[${t}](${u})`, text: t })),
      url.map((u) => ({ md: u, text: u })),
      words.map((t) => ({ md: `\`${t}\``, text: t })),
      words.map((t) => ({ md: `**${t}**`, text: t })),
    );
    const line = fc.array(inlineText, { minLength: 1, maxLength: 4 }).map((parts) => ({
      md: parts.map((p) => p.md).join(" "),
      text: parts.map((p) => p.text).join(" "),
    }));
    const block = fc.oneof(
      fc.array(line, { minLength: 1, maxLength: 3 }).map((ls) => ({
        md: ls.map((l) => l.md).join("\n"),
        text: ls.map((l) => l.text).join(""),
      })),
      fc
        .tuple(fc.integer({ min: 1, max: 6 }), line)
        .map(([level, l]) => ({ md: `${"#".repeat(level)} ${l.md}`, text: l.text })),
      fc.array(line, { minLength: 1, maxLength: 4 }).map((ls) => ({
        md: ls.map((l) => `- ${l.md}`).join("\n"),
        text: ls.map((l) => l.text).join(""),
      })),
      fc.array(words, { minLength: 1, maxLength: 4 }).map((ls) => ({
        md: ["```", ...ls, "```"].join("\n"),
        text: ls.join(""),
      })),
    );
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 6 }), (blocks) => {
        const doc = toAdf(blocks.map((b) => b.md).join("\n\n"));
        assert.equal(adfProblem(doc), undefined);
        assert.equal(doc.content.length, blocks.length);
        assert.equal(squash(adfPlainText(doc)), squash(blocks.map((b) => b.text).join("")));
      }),
      { numRuns: 300 },
    );
  });
});
