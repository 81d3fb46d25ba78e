/** Decoded blocks copied as new ones: the market-data tests spread the two mainnet blocks over days this way. */
import type { DecodedBlock } from "../../indexer/decode/index.js";

const SLOT_KEYS = new Set(["slot", "parentSlot", "firstSeenSlot", "lastSwapSlot", "reservesSlot", "createdSlot"]);
/** Copies are 5 h 10 min apart: six of them cross hours and a UTC midnight. */
export const SHIFT_S = 5 * 3600 + 600;

/** Copy `j` of `b`: slots 100*j later, block times SHIFT_S*j later, signatures suffixed (distinct rows). */
export function copyBlock(b: DecodedBlock, j: number): DecodedBlock {
  const walk = (v: unknown, key?: string): unknown => {
    if (v instanceof Date) return new Date(v.getTime() + SHIFT_S * 1000 * j);
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if (typeof v === "number" && key && SLOT_KEYS.has(key)) return v + 100 * j;
    if (typeof v === "number" && key === "blockTime") return v + SHIFT_S * j;
    if (typeof v === "string" && (key === "signature" || key === "createdSignature")) return `${v}-${j}`;
    return v;
  };
  return walk(b) as DecodedBlock;
}
