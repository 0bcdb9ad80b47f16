import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compiledArtifact, deepFreeze, FrozenMap } from "./frozen.ts";

describe("FrozenMap and deepFreeze", () => {
  it("reads like a ReadonlyMap, in insertion order", () => {
    const map = new FrozenMap([
      ["b", 2],
      ["a", 1],
    ]);
    assert.equal(map.size, 2);
    assert.equal(map.get("a"), 1);
    assert.equal(map.has("c"), false);
    assert.deepEqual(
      [...map],
      [
        ["b", 2],
        ["a", 1],
      ],
    );
    assert.deepEqual([...map.keys()], ["b", "a"]);
    assert.deepEqual([...map.values()], [2, 1]);
    const seen: string[] = [];
    map.forEach((value, key, self) => {
      assert.equal(self, map);
      seen.push(`${key}=${value}`);
    });
    assert.deepEqual(seen, ["b=2", "a=1"]);
  });

  it("cannot be mutated, even through Map.prototype", () => {
    const map = new FrozenMap([["a", 1]]);
    assert.ok(Object.isFrozen(map));
    assert.throws(() => Map.prototype.set.call(map, "b", 2), TypeError);
    assert.throws(() => Map.prototype.delete.call(map, "a"), TypeError);
    assert.throws(() => {
      (map as unknown as { size: number }).size = 0;
    }, TypeError);
    assert.equal(map.get("a"), 1);
  });

  it("is not affected by later changes to its source entries", () => {
    const source = new Map([["a", 1]]);
    const map = new FrozenMap(source);
    source.set("b", 2);
    assert.equal(map.has("b"), false);
  });

  it("freezes nested objects, arrays and map values", () => {
    const value = deepFreeze({ list: [{ n: 1 }], map: new FrozenMap([["k", { deep: [1] }]]) });
    assert.ok(Object.isFrozen(value.list[0]));
    assert.ok(Object.isFrozen(value.map.get("k")?.deep));
  });

  it("refuses plain Maps and Sets, which would stay mutable", () => {
    assert.throws(() => deepFreeze({ m: new Map() }), TypeError);
    assert.throws(() => deepFreeze({ s: new Set() }), TypeError);
  });

  it("leaves compiled artifacts (policies, templates) as they are, freezing around them", () => {
    const engine = { cache: new Map<string, number>(), state: { n: 1 } };
    const value = deepFreeze({ holder: { artifact: compiledArtifact(engine) } });
    assert.ok(Object.isFrozen(value.holder));
    assert.ok(!Object.isFrozen(engine) && !Object.isFrozen(engine.state));
    engine.cache.set("k", 1);
    assert.equal(value.holder.artifact.cache.get("k"), 1);
  });
});
