import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HttpError } from "../domain/errors.ts";
import { jsonDepthExceeds, maxJsonDepth, mediaType, parseBody, parseForm, parseJson } from "./parse-body.ts";

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof HttpError);
    return err.code;
  }
}

describe("parse-body", () => {
  it("extracts the media type", () => {
    assert.equal(mediaType("Application/JSON; charset=utf-8"), "application/json");
    assert.equal(mediaType(""), undefined);
    assert.equal(mediaType(undefined), undefined);
    assert.equal(mediaType(" ; x"), undefined);
  });

  it("parses JSON and refuses broken, empty, non-UTF-8 and too deep bodies", () => {
    assert.deepEqual(parseJson(Buffer.from('{"a":[1,{"b":"é"}]}')), { a: [1, { b: "é" }] });
    assert.equal(
      code(() => parseJson(Buffer.from('{"a":'))),
      "malformed_body",
    );
    assert.equal(
      code(() => parseJson(Buffer.from("  "))),
      "malformed_body",
    );
    assert.equal(
      code(() => parseJson(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))),
      "malformed_body",
    );
    const bomb = "[".repeat(100_000) + "]".repeat(100_000);
    assert.equal(
      code(() => parseJson(Buffer.from(bomb))),
      "malformed_body",
    );
  });

  it("counts depth outside strings only", () => {
    assert.equal(jsonDepthExceeds(`{"s":"${"[".repeat(500)}"}`, maxJsonDepth), false);
    assert.equal(jsonDepthExceeds(`{"s":"\\"[[["}`, 2), false);
    assert.equal(jsonDepthExceeds("[".repeat(maxJsonDepth + 1), maxJsonDepth), true);
    assert.equal(jsonDepthExceeds("[".repeat(maxJsonDepth), maxJsonDepth), false);
  });

  it("parses forms, keeping repeated keys", () => {
    assert.deepEqual(parseForm(Buffer.from("a=1&b=x%20y&a=2&a=3")), { a: ["1", "2", "3"], b: "x y" });
    assert.deepEqual(parseBody("application/x-www-form-urlencoded", Buffer.from("payload=%7B%7D")), {
      payload: "{}",
    });
  });
});
