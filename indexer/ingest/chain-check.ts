/**
 * Chain verification for live ingest, from the `slots` table: each stored block must name, as its parent, the
 * previous stored block (parentSlot and previousBlockhash), as on a cluster. The worker records each block's links
 * when it stores it, so checking costs no RPC call; only a block that does not chain is fetched (again).
 * @dev pure: `checkLinks` reads rows and says how far the resume point may go and why not further.
 */
import type { ChainRow } from "../store/index.js";

/** Why the resume point holds below `slot`: its block does not chain to `expected` (null: no block stored before). */
export type ChainGap = {
  /** the block that does not chain */
  slot: number;
  /** the parent it names */
  parent: number;
  /** the block stored before it, the parent it should name */
  expected: number | null;
  reason: string;
  /** the slot to fetch (again) to settle it: the parent left out, or the block itself */
  fetch: number;
};

/** What a check found: the resume point may move up to `verifiedTo`; past it, `gap` says why not. */
export type LinkCheck = { verifiedTo: number; gap?: ChainGap };

/**
 * Checks the stored blocks in (resume, to] (`rows`, ascending) link one to the next.
 * A block whose parent is above the previous block names a parent getBlocks left out (or the node called skipped):
 * that parent is to be fetched. A parent below the previous block is a fork switch when it is a stored block with
 * the hash the child names (the finality tracker rolls the abandoned fork back). The first block above the resume
 * point may name a parent the store never had (the slot ingest started from). Rows without links (written before
 * links were kept) are trusted.
 * @param parentRow the stored row of a slot below the checked range (a fork switch's parent), or undefined
 */
export async function checkLinks(
  resume: number,
  to: number,
  rows: ChainRow[],
  parentRow: (slot: number) => Promise<ChainRow | undefined>,
): Promise<LinkCheck> {
  const bySlot = new Map(rows.map((r) => [r.slot, r]));
  let prev: ChainRow | undefined;
  for (const row of rows) {
    if (row.slot <= resume || row.slot > to) continue;
    if (row.status !== "indexed") continue;
    const gap = await linkProblem(row, prev, resume, bySlot, parentRow);
    if (gap) return { verifiedTo: row.slot - 1, gap };
    prev = row;
  }
  return { verifiedTo: to };
}

async function linkProblem(
  row: ChainRow,
  prev: ChainRow | undefined,
  resume: number,
  bySlot: Map<number, ChainRow>,
  parentRow: (slot: number) => Promise<ChainRow | undefined>,
): Promise<ChainGap | undefined> {
  const p = row.parentSlot;
  // No links recorded (a row from before they were kept, or from logs mode): nothing to check.
  if (p === null || row.blockhash === null || row.blockhash === "") return undefined;
  const expected = prev?.slot ?? null;
  const gap = (reason: string, fetch = row.slot): ChainGap => ({ slot: row.slot, parent: p, expected, reason, fetch });
  const hashOk = (parent: ChainRow) =>
    row.previousBlockhash === null || parent.blockhash === null || parent.blockhash === row.previousBlockhash;
  if (prev && p === prev.slot)
    return hashOk(prev) ? undefined : gap(`previousBlockhash is not the blockhash of slot ${p}`);
  const floor = prev?.slot ?? resume;
  const stored = p > resume ? bySlot.get(p) : await parentRow(p);
  if (p > floor) {
    // Above the previous block: a parent getBlocks left out, or one the node answered as skipped.
    const said = stored ? ` and the node said ${stored.status}` : "";
    return gap(`parent ${p} was left out of getBlocks${said}; fetching it`, p);
  }
  if (stored?.status === "indexed")
    return hashOk(stored) ? undefined : gap(`previousBlockhash is not the blockhash of slot ${p}`);
  if (stored && stored.status !== "rolled_back")
    return gap(`parent ${p} is stored as ${stored.status}, yet block ${row.slot} names it; fetching it`, p);
  // A parent never stored: left out of getBlocks (fetched), or, for the first block past the resume point, the slot
  // ingest started from.
  if (!stored && p > resume) return gap(`parent ${p} was left out of getBlocks; fetching it`, p);
  if (!prev && !stored) return undefined;
  return gap(`parent ${p} is neither the previous block (${expected ?? "none"}) nor a stored block`);
}

/**
 * Whether stored block `u`, absent from the finalized chain's block list, is on that chain all the same: the first
 * listed block above it that is stored descends from it through stored links (each naming its parent's hash), as a
 * block getBlocks left out does. "dropped" when that descent passes over `u` (a fork that did not last), and
 * "undecided" while the descent is not stored yet (the finality mark waits below `u`).
 * @param listed the finalized chain's listed slots, ascending
 */
export function onFinalizedChain(
  u: number,
  rows: Map<number, ChainRow>,
  listed: number[],
): "kept" | "dropped" | "undecided" {
  const own = rows.get(u);
  let c: ChainRow | undefined;
  for (const s of listed) {
    if (s <= u) continue;
    c = rows.get(s);
    break;
  }
  // A row without links (written before they were kept) cannot be shown to be on the chain.
  if (!own || own.blockhash === null || own.blockhash === "") return "dropped";
  if (!c || c.status !== "indexed") return "undecided";
  for (let x: ChainRow = c; ; ) {
    const p = x.parentSlot;
    if (p === null || x.blockhash === null || x.blockhash === "") return "dropped";
    if (p === u) return x.previousBlockhash === null || x.previousBlockhash === own.blockhash ? "kept" : "dropped";
    if (p < u) return "dropped";
    const next = rows.get(p);
    if (!next || next.status !== "indexed") return "undecided";
    x = next;
  }
}
