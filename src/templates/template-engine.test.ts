import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileTemplate, createTemplateEngine, type TemplateEngine } from "./template-engine.ts";
import { TemplateError, type TemplateErrorCode, type TemplateLimitName } from "./template-error.ts";
import { defaultTemplateLimits } from "./template-limits.ts";

const engine = createTemplateEngine();

/** Runs `fn`, which must throw a TemplateError, and returns it. */
function templateErrorOf(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error("expected a TemplateError, but it succeeded");
}

function compileError(source: string, name = "t.liquid"): TemplateError {
  return templateErrorOf(() => engine.compile(source, name));
}

/**
 * The default limits, except a render time long enough never to be the limit that fires on a loaded
 * machine: tests of the memory and output limits use it, so each test sees exactly one limit.
 */
const roomyEngine = createTemplateEngine({ limits: { renderTimeMs: 10_000 } });

/** Renders `source` expecting a limit to stop it; returns the error and how long it took. */
function limitError(
  source: string,
  context: object = {},
  on: TemplateEngine = roomyEngine,
): { err: TemplateError; elapsedMs: number } {
  const template = on.compile(source, "loop.liquid");
  const started = performance.now();
  const err = templateErrorOf(() => template.render(context));
  return { err, elapsedMs: performance.now() - started };
}

function assertLimit(
  err: TemplateError,
  limit: TemplateLimitName,
  code: TemplateErrorCode = "template_render_failed",
) {
  assert.equal(err.code, code);
  assert.equal(err.limit, limit);
}

const healthy = engine.compile("Hello {{ name | upcase }}", "healthy.liquid");
function assertStillHealthy(): void {
  assert.equal(healthy.render({ name: "zen" }), "Hello ZEN");
}

const thousand = Array.from({ length: 1000 }, (_, i) => i);

describe("compileTemplate: errors are config problem lines", () => {
  it("reports a syntax error as name:line:col: message", () => {
    const err = compileError(
      "line one\nline two {% if event.severity %}no end",
      "tenants[0].destinations[1].template.summary",
    );
    assert.equal(err.code, "template_invalid");
    assert.equal(
      err.message,
      "tenants[0].destinations[1].template.summary:2:10: tag {% if event.severity %} not closed",
    );
    assert.equal(err.location, "tenants[0].destinations[1].template.summary:2:10");
    assert.equal(err.detail, "tag {% if event.severity %} not closed");
    assert.equal(err.templateName, "tenants[0].destinations[1].template.summary");
    assert.deepEqual([err.line, err.column, err.limit], [2, 10, undefined]);
  });

  it("reports an unknown filter at compile time, with its position", () => {
    const err = compileError("ok\n  {{ event.type | shout }}");
    assert.equal(err.message, "t.liquid:2:3: undefined filter: shout");
  });

  it("reports unknown tags and unclosed outputs", () => {
    assert.equal(compileError("{% frobnicate %}").message, 't.liquid:1:1: tag "frobnicate" not found');
    assert.equal(compileError("a {{ event.id").message, 't.liquid:1:3: output "{{ event.id" not closed');
  });

  it("refuses a source longer than maxSourceChars before parsing it", () => {
    const small = createTemplateEngine({ limits: { maxSourceChars: 10 } });
    const err = templateErrorOf(() => small.compile("x".repeat(11), "big.liquid"));
    assertLimit(err, "source_size", "template_invalid");
    assert.equal(err.message, "big.liquid: template is longer than 10 characters");
  });

  it("survives a template nested too deeply to parse: a compile error, not a crash", () => {
    // 2 500 levels in 52 KiB: beyond what LiquidJS's recursive parser fits in Node's default stack.
    const source = `${"{% if a %}".repeat(2500)}x${"{% endif %}".repeat(2500)}`;
    try {
      engine.compile(source, "deep.liquid");
    } catch (err) {
      assert.ok(err instanceof TemplateError, String(err));
      assert.equal(err.code, "template_invalid");
      assert.equal(err.detail, "Maximum call stack size exceeded");
    }
    assertStillHealthy();
  });

  it("compileTemplate uses a shared engine with the default limits", () => {
    const template = compileTemplate("{{ a }}-{{ b }}", "shared.liquid");
    assert.equal(template.render({ a: 1, b: "two" }), "1-two");
    assert.equal(template.maxOutputChars, defaultTemplateLimits.maxOutputChars);
    assert.equal(template.output, "text");
  });
});

describe("sandbox: no file access", () => {
  for (const source of [
    "{% include 'x' %}",
    "{% include event.data.path %}",
    "{% render 'x' %}",
    "{% render 'x' with event as e %}",
    "{% layout 'x' %}body",
    "{% include '/etc/passwd' %}",
  ]) {
    it(`refuses ${source} at compile time`, () => {
      const err = compileError(`first line\n${source}`);
      assert.equal(err.code, "template_invalid");
      assert.equal(err.line, 2);
      assert.equal(err.column, 1);
      assert.match(
        err.detail,
        /^the "(include|render|layout)" tag is not allowed: templates cannot read other templates or files$/,
      );
    });
  }

  it("refuses file tags inside {% liquid %} too", () => {
    const err = compileError("{% liquid\n  assign a = 1\n  include 'x'\n%}");
    assert.equal(err.location, "t.liquid:3:3");
  });
});

describe("sandbox: only own properties of the data", () => {
  it("yields nothing for constructor, __proto__, prototype and inherited members", () => {
    const context = { event: { type: "push", tags: ["a"] } };
    const probes = [
      "{{ event.constructor }}",
      "{{ event.__proto__ }}",
      "{{ event['constructor'] }}",
      "{{ event.prototype }}",
      "{{ event.toString }}",
      "{{ event.hasOwnProperty }}",
      "{{ event.type.constructor.name }}",
      "{{ event.tags.constructor }}",
      "{{ event.constructor.constructor }}",
      "{{ event.type.__proto__.constructor }}",
      "{{ constructor }}",
      "{{ __proto__ }}",
      "{% for k in event.__proto__ %}{{ k }}{% endfor %}",
      "{{ event | map: 'constructor' | join }}",
    ];
    for (const probe of probes)
      assert.equal(engine.compile(probe, "proto.liquid").render(context), "", probe);
  });

  it("still reads own properties and Liquid's size/first/last", () => {
    const template = engine.compile(
      "{{ e.type }} {{ e.tags.size }} {{ e.tags.first }} {{ e.tags.last }} {{ e.type.size }}",
      "own.liquid",
    );
    assert.equal(template.render({ e: { type: "push", tags: ["a", "b"] } }), "push 2 a b 4");
  });

  it("does not let {% increment %} or {% assign %} touch the caller's object", () => {
    const context = { counter: 5, event: { type: "push" } };
    const template = engine.compile(
      "{% increment counter %}{% assign event = 'x' %}{{ counter }}{{ event }}",
      "inc.liquid",
    );
    assert.equal(template.render(context), "56x");
    assert.deepEqual(context, { counter: 5, event: { type: "push" } });
  });
});

describe("limits: a runaway template is stopped, quickly, and the engine stays healthy", () => {
  it("stops nested loops over data by the render time limit", () => {
    const { err, elapsedMs } = limitError(
      "{% assign n = 0 %}{% for a in big %}{% for b in big %}{% for c in big %}{% assign n = n | plus: 1 %}{% endfor %}{% endfor %}{% endfor %}{{ n }}",
      { big: thousand },
      engine,
    );
    assertLimit(err, "render_time");
    assert.equal(err.detail, "render time limit (500 ms) exceeded");
    assert.match(err.location, /^loop\.liquid:1:\d+$/);
    assert.ok(elapsedMs < 2000, `took ${elapsedMs} ms`);
    assertStillHealthy();
  });

  it("honours a configured render time", () => {
    const fast = createTemplateEngine({ limits: { renderTimeMs: 20 } });
    const template = fast.compile(
      "{% for a in big %}{% for b in big %}{% for c in big %}{% endfor %}{% endfor %}{% endfor %}",
      "t",
    );
    const started = performance.now();
    const err = templateErrorOf(() => template.render({ big: thousand }));
    assertLimit(err, "render_time");
    assert.equal(err.detail, "render time limit (20 ms) exceeded");
    assert.ok(performance.now() - started < 1000);
  });

  it("stops a huge range by the memory limit before allocating it", () => {
    const { err, elapsedMs } = limitError("{% for i in (1..1000000000) %}{{ i }}{% endfor %}");
    assertLimit(err, "memory");
    assert.equal(err.detail, `memory limit (${defaultTemplateLimits.memoryUnits} units) exceeded`);
    assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms`);
    assertStillHealthy();
  });

  it("stops string doubling with append by the memory limit", () => {
    const { err, elapsedMs } = limitError(
      "{% assign s = 'x' %}{% for i in (1..64) %}{% assign s = s | append: s %}{% endfor %}{{ s.size }}",
    );
    assertLimit(err, "memory");
    assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms`);
    assertStillHealthy();
  });

  it("stops string doubling with capture by the memory limit (the stock capture is unbounded)", () => {
    const { err, elapsedMs } = limitError(
      "{% assign s = 'x' %}{% for i in (1..64) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}{{ s.size }}",
    );
    assertLimit(err, "memory");
    assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms`);
    assertStillHealthy();
  });

  it("stops an output of megabytes at the output size limit, at the write that crosses it", () => {
    const { err, elapsedMs } = limitError("{% for i in (1..100000) %}{{ chunk }}{% endfor %}", {
      chunk: "x".repeat(1024),
    });
    assertLimit(err, "output_size");
    assert.equal(
      err.detail,
      `output size limit (${defaultTemplateLimits.maxOutputChars} characters) exceeded`,
    );
    assert.equal(err.location, "loop.liquid:1:27");
    assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms`);
    assertStillHealthy();
  });

  it("applies a template's own output cap, counting literal text too", () => {
    const template = engine.compile("0123456789{{ tail }}", "capped", { maxOutputChars: 12 });
    assert.equal(template.render({ tail: "ab" }), "0123456789ab");
    const err = templateErrorOf(() => template.render({ tail: "abc" }));
    assertLimit(err, "output_size");
    assert.equal(err.message, "capped:1:11: output size limit (12 characters) exceeded");
  });

  it("stops a json-filter loop over a large payload", () => {
    const { err } = limitError("{% for i in (1..1000) %}{% assign j = payload | json %}{% endfor %}", {
      payload: { text: "y".repeat(100_000) },
    });
    assertLimit(err, "memory");
  });

  it("keeps renders independent: the limits are per render, not per engine", () => {
    const tight = createTemplateEngine({ limits: { memoryUnits: 1000, renderTimeMs: 10_000 } });
    // Charges 600 units per render: a second render would fail if budgets were shared.
    const template = tight.compile("{% assign s = big | append: '' %}{{ s.size }}", "repeat");
    for (let i = 0; i < 5; i++) assert.equal(template.render({ big: "x".repeat(600) }), "600");
    assertLimit(
      templateErrorOf(() => template.render({ big: "x".repeat(1001) })),
      "memory",
    );
  });
});

describe("render errors", () => {
  it("reports a throwing value as template_render_failed at its position", () => {
    const template = engine.compile("a\n  {{ x.boom }}", "boom.liquid");
    const err = templateErrorOf(() =>
      template.render({
        x: {
          get boom(): string {
            throw new Error("getter failed");
          },
        },
      }),
    );
    assert.equal(err.code, "template_render_failed");
    assert.equal(err.message, "boom.liquid:2:6: getter failed");
    assert.equal(err.limit, undefined);
  });

  it("renders missing variables as empty (strictVariables off)", () => {
    assert.equal(engine.compile("[{{ event.nope.deeper }}]", "t").render({ event: {} }), "[]");
  });

  it("formats dates in UTC unless configured", () => {
    const source = '{{ t | date: "%Y-%m-%d %H:%M %z" }}';
    assert.equal(engine.compile(source, "t").render({ t: "2026-10-01T23:59:58Z" }), "2026-10-01 23:59 +0000");
    const paris = createTemplateEngine({ timeZone: "Europe/Paris" });
    assert.equal(paris.compile(source, "t").render({ t: "2026-10-01T23:59:58Z" }), "2026-10-02 01:59 +0200");
  });
});

describe("JSON outputs are validated at render", () => {
  it("refuses output that is not JSON, without quoting it", () => {
    const template = engine.compile('{\n  "text": {{ event.subject }}\n}', "hook.json", { output: "json" });
    const err = templateErrorOf(() => template.render({ event: { subject: "token abc123" } }));
    assert.equal(err.code, "template_render_failed");
    assert.equal(err.message, "hook.json: output is not valid JSON: Unexpected token 'o'");
    assert.ok(!err.message.includes("abc"), err.message);
    const positioned = engine.compile('{\n  "a": {{ x }}\n}', "p.json", { output: "json" });
    assert.equal(
      templateErrorOf(() => positioned.render({ x: '"secret' })).detail,
      "output is not valid JSON: Bad control character in string literal at output line 2, column 15",
    );
  });

  it("refuses empty output for a JSON part", () => {
    const template = engine.compile("{% if false %}{}{% endif %}", "empty.json", { output: "json" });
    assert.equal(
      templateErrorOf(() => template.render({})).detail,
      "output is not valid JSON: Unexpected end of JSON input",
    );
  });

  it("checks the JSON kind of json-object and json-array parts", () => {
    const object = engine.compile("[1]", "o", { output: "json-object" });
    assert.equal(
      templateErrorOf(() => object.render({})).message,
      "o: output must be a JSON object, not an array",
    );
    const array = engine.compile('{"a": 1}', "a", { output: "json-array" });
    assert.equal(
      templateErrorOf(() => array.render({})).message,
      "a: output must be a JSON array, not an object",
    );
    const nullOutput = engine.compile("null", "n", { output: "json-array" });
    assert.equal(
      templateErrorOf(() => nullOutput.render({})).detail,
      "output must be a JSON array, not null",
    );
  });

  it("renders JSON with | json safely, whatever the data holds", () => {
    const template = engine.compile(
      '{"text": {{ event.subject | json }}, "n": {{ event.count | json }}}',
      "safe.json",
      {
        output: "json-object",
      },
    );
    const subject = '"}, "admin": true, "x": "\n\u2028<!channel>\\';
    assert.deepEqual(template.renderJson({ event: { subject } }), { text: subject, n: null });
  });

  it("renderJson parses text templates too, and fails when they are not JSON", () => {
    assert.deepEqual(engine.compile("[{{ a }}]", "t").renderJson({ a: 1 }), [1]);
    assert.equal(
      templateErrorOf(() => engine.compile("plain", "t").renderJson({})).code,
      "template_render_failed",
    );
  });
});
