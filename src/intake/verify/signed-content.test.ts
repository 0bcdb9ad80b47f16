import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { parseSignedContent, updateWithContent } from "./signed-content.ts";

describe("parseSignedContent", () => {
  it("splits literals and placeholders", () => {
    const parsed = parseSignedContent("v0:{timestamp}:{body}");
    assert.ok(!("problem" in parsed));
    assert.deepEqual(
      parsed.parts.map((p) => (p.kind === "literal" ? p.bytes.toString() : `{${p.name}}`)),
      ["v0:", "{timestamp}", ":", "{body}"],
    );
    assert.deepEqual([...parsed.uses].sort(), ["body", "timestamp"]);
  });

  it("feeds the same bytes as a Buffer concatenation", () => {
    const parsed = parseSignedContent("{id}.{timestamp}.{url}.{body}");
    assert.ok(!("problem" in parsed));
    const body = Buffer.from([0, 255, 10, 13]);
    const values = { body, id: "m\u00e9", timestamp: "17", url: "https://x/?a=1" };
    const streamed = updateWithContent(createHmac("sha256", "k"), parsed.parts, values).digest("hex");
    const concatenated = Buffer.concat([Buffer.from("m\u00e9.17.https://x/?a=1."), body]);
    assert.equal(streamed, createHmac("sha256", "k").update(concatenated).digest("hex"));
  });

  it("keeps braces that are not placeholders, and reports unknown ones", () => {
    const parsed = parseSignedContent("{ {body} }");
    assert.ok(!("problem" in parsed));
    assert.equal(parsed.parts.length, 3);
    assert.deepEqual(parseSignedContent("{Body}"), {
      problem: "unknown placeholder {Body}; use {body}, {timestamp}, {id} or {url}",
    });
  });
});
