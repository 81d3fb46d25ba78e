import { describe, expect, test } from "vitest";
import type { ListSpec } from "../../../api/sql/page.js";
import { LIQUIDITY, PROGRAM_EVENTS } from "../../../api/queries/events.js";
import { POOLS } from "../../../api/queries/pools.js";
import { SWAPS } from "../../../api/queries/swaps.js";
import { TOKENS } from "../../../api/queries/tokens.js";
import { TRANSACTIONS } from "../../../api/queries/transactions.js";
import { TRANSFERS } from "../../../api/queries/transfers.js";

const SPECS: Record<string, ListSpec> = { LIQUIDITY, PROGRAM_EVENTS, POOLS, SWAPS, TOKENS, TRANSACTIONS, TRANSFERS };

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
