/**
 * Instruction paths as every row names its instruction: top level "i", CPIs numbered from 1 under the instruction
 * that invoked them ("2.1", "2.1.1"), in execution order, each once, and as many under a top-level instruction as the
 * transaction's meta lists for it. Checked over every recorded transaction.
 */
import { describe, expect, test } from "vitest";
import { createTxView } from "../../../indexer/decode/tx-view.js";
import { allFixtureTxs } from "./fixture-txs.js";

/** Execution order of two paths (numeric, component by component; a prefix first). */
function compare(a: string, b: string): number {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

describe("tx-view: instruction paths", () => {
  test("numbered from 0 at the top and from 1 below, in execution order, once each, one per recorded instruction", () => {
    let checked = 0;
    const bad: string[] = [];
    const check = (ok: boolean, what: string) => void (ok || bad.push(what));
    for (const f of allFixtureTxs()) {
      const { ixs } = createTxView(f.tx);
      const paths = ixs.map((ix) => ix.path);
      const where = f.file;
      check(new Set(paths).size === paths.length, `${where}: a path twice`);
      for (let i = 1; i < paths.length; i++)
        check(compare(paths[i - 1]!, paths[i]!) < 0, `${where}: ${paths[i - 1]} before ${paths[i]}`);
      for (const ix of ixs) {
        const [top, ...inner] = ix.path.split(".").map(Number);
        check(Number.isInteger(top) && top! >= 0, `${where}: ${ix.path}`);
        for (const n of inner) check(Number.isInteger(n) && n >= 1, `${where}: ${ix.path}`);
        // a CPI's path extends its parent's by one
        if (ix.parent >= 0) check(ix.path.startsWith(`${ixs[ix.parent]!.path}.`), `${where}: ${ix.path} parent`);
      }
      // the first CPI under each instruction is .1, and its siblings follow without gaps
      const children = new Map<string, number[]>();
      for (const p of paths) {
        const cut = p.lastIndexOf(".");
        if (cut < 0) continue;
        const parent = p.slice(0, cut);
        children.set(parent, [...(children.get(parent) ?? []), Number(p.slice(cut + 1))]);
      }
      for (const [parent, ns] of children)
        check(
          ns.every((n, i) => n === i + 1),
          `${where}: under ${parent} ${ns.join(",")}`,
        );
      const topLevel = f.tx.transaction.message.instructions.length;
      const innerCount = (f.tx.meta?.innerInstructions ?? []).reduce((n, g) => n + g.instructions.length, 0);
      check(paths.filter((p) => !p.includes(".")).length === topLevel, `${where}: top-level count`);
      check(paths.length === topLevel + innerCount, `${where}: instruction count`);
      checked++;
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(checked).toBeGreaterThan(3000);
  });
});
