import { describe, expect, test } from "vitest";
import {
  HOLDINGS,
  LIQUIDITY,
  POOLS,
  PROGRAM_EVENTS,
  SWAPS,
  TOKEN_ACCOUNTS,
  TOKENS,
  TRANSACTIONS,
  TRANSFERS,
} from "../../../api/queries/index.js";
import type { ListSpec } from "../../../api/sql/index.js";

const SPECS: Record<string, ListSpec> = {
  HOLDINGS,
  LIQUIDITY,
  PROGRAM_EVENTS,
  POOLS,
  SWAPS,
  TOKEN_ACCOUNTS,
  TOKENS,
  TRANSACTIONS,
  TRANSFERS,
};

describe("list specs", () => {
  test("a key column read from the select (`as`) is that same expression in the select", () => {
    for (const [name, spec] of Object.entries(SPECS))
      for (const order of Object.values(spec.orders))
        for (const c of order.cols) {
          if (!c.as) continue;
          const items = spec.select.split(",").map((x) => x.trim().replace(/\s+/g, " "));
          const plain = c.expr === `t.${c.as}`;
          expect(items, `${name}.${order.name}: ${c.expr} as ${c.as}`).toContain(
            plain ? c.expr : `${c.expr} as "${c.as}"`,
          );
        }
  });
});
