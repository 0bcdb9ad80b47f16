import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTemplateEngine } from "./template-engine.ts";

const engine = createTemplateEngine();

function render(source: string, context: object = {}): string {
  return engine.compile(source, "filter.liquid").render(context);
}

describe("json", () => {
  it("quotes and escapes strings so they can be spliced into JSON", () => {
    const text = '"}, "x": 1, "y": "\n\t\\ \u2028 <!channel>';
    assert.equal(JSON.parse(render("{{ v | json }}", { v: text })), text);
  });

  it("serializes objects and arrays, indented on request", () => {
    const v = { a: [1, "two", null], b: { c: true } };
    assert.equal(render("{{ v | json }}", { v }), JSON.stringify(v));
    assert.equal(render("{{ v | json: 2 }}", { v }), JSON.stringify(v, null, 2));
    assert.equal(render("{{ v | jsonify }}", { v }), JSON.stringify(v));
  });

  it("renders a missing value as null", () => {
    assert.equal(render("{{ nothing | json }}"), "null");
    assert.equal(render("{{ v.missing | json }}", { v: {} }), "null");
  });

  it("never throws: cycles become [Circular], BigInts strings", () => {
    const cyclic: Record<string, unknown> = { name: "loop", list: [] };
    cyclic.self = cyclic;
    (cyclic.list as unknown[]).push(cyclic);
    assert.deepEqual(JSON.parse(render("{{ v | json }}", { v: cyclic })), {
      name: "loop",
      list: ["[Circular]"],
      self: "[Circular]",
    });
    assert.equal(render("{{ v | json }}", { v: { n: 2n ** 70n } }), '{"n":"1180591620717411303424"}');
  });

  it("repeats shared (non-cyclic) values instead of calling them circular", () => {
    const shared = { x: 1 };
    assert.equal(render("{{ v | json }}", { v: { a: shared, b: shared } }), '{"a":{"x":1},"b":{"x":1}}');
  });

  it("caps the indent at 10 like JSON.stringify", () => {
    assert.equal(render("{{ v | json: 99 }}", { v: [1] }), JSON.stringify([1], null, 10));
  });
});

describe("severity_emoji", () => {
  it("maps our five levels", () => {
    const cases: [string, string][] = [
      ["critical", "🔴"],
      ["high", "🟠"],
      ["medium", "🟡"],
      ["low", "🔵"],
      ["info", "⚪"],
    ];
    for (const [severity, emoji] of cases)
      assert.equal(render("{{ s | severity_emoji }}", { s: severity }), emoji);
  });

  it("understands other tools' words and gives nothing for none or nonsense", () => {
    assert.equal(render("{{ s | severity_emoji }}", { s: "Warning" }), "🟡");
    assert.equal(render("{{ s | severity_emoji }}", { s: "P1" }), "🔴");
    assert.equal(render("{{ s | severity_emoji }}", { s: "purple" }), "");
    assert.equal(render("{{ s | severity_emoji }}"), "");
    assert.equal(render("{{ s | severity_emoji }}", { s: 3 }), "");
  });
});

describe("slack_escape", () => {
  it("escapes &, < and > so payloads cannot ping or disguise links", () => {
    assert.equal(
      render("{{ s | slack_escape }}", { s: "<!channel> <https://evil|ok> a & b" }),
      "&lt;!channel&gt; &lt;https://evil|ok&gt; a &amp; b",
    );
    assert.equal(render("{{ s | slack_escape }}"), "");
  });

  it("gives nothing for objects, whatever their toString", () => {
    assert.equal(render("{{ s | slack_escape }}", { s: { toString: "not a function" } }), "");
    assert.equal(render("{{ s | underscore_slug }}", { s: { toString: () => "Boom" } }), "");
  });
});

describe("resource_text", () => {
  it("formats Kind namespace/name", () => {
    assert.equal(
      render("{{ r | resource_text }}", { r: { kind: "Pod", namespace: "prod", name: "api-7" } }),
      "Pod prod/api-7",
    );
    assert.equal(
      render("{{ r | resource_text }}", { r: { kind: "Node", name: "worker-1" } }),
      "Node worker-1",
    );
    assert.equal(
      render("{{ r | resource_text }}", { r: { kind: "Pod", namespace: "", name: "x" } }),
      "Pod x",
    );
  });

  it("gives nothing for no resource or a non-object", () => {
    assert.equal(render("{{ r | resource_text }}"), "");
    assert.equal(render("{{ r | resource_text }}", { r: "Pod x" }), "");
    assert.equal(render("{{ r | resource_text }}", { r: [1] }), "");
  });
});

describe("underscore_slug", () => {
  it("normalizes like zen-watcher's eventType: lower case, [a-z0-9_] only", () => {
    assert.equal(
      render("{{ t | underscore_slug }}", { t: "Terminal shell in container" }),
      "terminal_shell_in_container",
    );
    assert.equal(
      render("{{ t | underscore_slug }}", { t: "invoice.payment-failed" }),
      "invoice_payment_failed",
    );
    assert.equal(render("{{ t | underscore_slug }}", { t: "Ünïcode 🚀" }), "_n_code___");
    assert.equal(render("{{ t | underscore_slug }}"), "");
  });
});

describe("http_url", () => {
  it("passes absolute http(s) URLs through unchanged", () => {
    for (const url of [
      "https://github.com/acme/api/compare/a...b",
      "http://jenkins.internal:8080/job/1/",
      "HTTPS://EXAMPLE.COM/X",
    ]) {
      assert.equal(render("{{ u | http_url }}", { u: url }), url);
    }
  });

  it("drops anything a receiver could refuse or a user should not click", () => {
    for (const u of [
      "javascript:alert(1)",
      "data:text/html,hi",
      "/relative/path",
      "https://exa mple.com",
      "https://user:pass@example.com/",
      "https://token@example.com/",
      "http://[::1",
      `https://example.com/${"x".repeat(9000)}`,
      42,
      { href: "https://example.com" },
    ]) {
      assert.equal(render("{{ u | http_url }}", { u }), "", String(u));
    }
    assert.equal(render("{{ u | http_url }}"), "");
  });
});

describe("built-ins we rely on", () => {
  it("truncate counts code points and keeps surrogate pairs whole", () => {
    assert.equal(render('{{ s | truncate: 3, "…" }}', { s: "🚀🚀🚀🚀" }), "🚀🚀…");
    assert.equal(render('{{ s | truncate: 4, "…" }}', { s: "🚀🚀🚀🚀" }), "🚀🚀🚀🚀");
  });

  it("squish makes one line", () => {
    assert.equal(render("{{ s | squish }}", { s: "  a\n\tb  \r\n c " }), "a b c");
  });
});
