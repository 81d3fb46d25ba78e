/**
 * The supply of the mints derived from recorded token balances, as of a slot: the derived supply plus every
 * MintTo and Burn (Token and Token-2022, checked or not, top level or inner, of successful transactions) in the
 * blocks produced up to that slot.
 * @dev Synthetic load replays recorded transactions, mints and burns included, so on a real cluster the supply
 * would move with it. Serving one fixed supply whatever the slot made a read's result depend on when it was made:
 * an indexer that adds the mints and burns after the read's slot to the read would get a different sum for each
 * read slot.
 */
import bs58 from "bs58";
import { TOKEN_2022_PROGRAM, TOKEN_PROGRAM } from "./accounts.js";
import type { BlockRecord, Ledger } from "./ledger.js";
import type { SyntheticSource } from "./synthetic.js";
import type { TxRecord } from "./tx-record.js";

const INITIALIZE_MINT = 0;
const INITIALIZE_MINT_2 = 20;
const MINT_TO = 7;
const BURN = 8;
const MINT_TO_CHECKED = 14;
const BURN_CHECKED = 15;

type Changes = ReadonlyMap<string, bigint>;
const NONE: Changes = new Map();

const byTx = new WeakMap<TxRecord, Changes>();

/** The token program instructions of a successful transaction, top level and inner, with their data decoded. */
function* tokenInstructions(rec: TxRecord): Generator<{ data: Buffer; accounts: number[] }> {
  if (!rec.raw.meta || rec.raw.meta.err != null) return;
  const keys = rec.accountKeys;
  const ixs = [
    ...rec.raw.transaction.message.instructions,
    ...(rec.raw.meta.innerInstructions ?? []).flatMap((g) => g.instructions),
  ];
  for (const ix of ixs) {
    const program = keys[ix.programIdIndex];
    if (program === TOKEN_PROGRAM || program === TOKEN_2022_PROGRAM)
      yield { data: Buffer.from(bs58.decode(ix.data)), accounts: ix.accounts };
  }
}

/** The mints a successful transaction initialises (InitializeMint, InitializeMint2). */
export function initializedMints(rec: TxRecord): string[] {
  const out: string[] = [];
  for (const { data, accounts } of tokenInstructions(rec))
    if (data[0] === INITIALIZE_MINT || data[0] === INITIALIZE_MINT_2) {
      const mint = rec.accountKeys[accounts[0] ?? -1];
      if (mint) out.push(mint);
    }
  return out;
}

/** Net supply change per mint of one transaction (nothing when it failed). */
export function txSupplyChanges(rec: TxRecord): Changes {
  let out = byTx.get(rec);
  if (out) return out;
  const changes = new Map<string, bigint>();
  for (const { data, accounts } of tokenInstructions(rec)) {
    const tag = data[0];
    if (data.length < 9 || (tag !== MINT_TO && tag !== MINT_TO_CHECKED && tag !== BURN && tag !== BURN_CHECKED))
      continue;
    const amount = data.readBigUInt64LE(1);
    // MintTo: [mint, account, authority]; Burn: [account, mint, authority]
    const mint = rec.accountKeys[accounts[tag === MINT_TO || tag === MINT_TO_CHECKED ? 0 : 1] ?? -1];
    if (!mint) continue;
    const sign = tag === MINT_TO || tag === MINT_TO_CHECKED ? 1n : -1n;
    changes.set(mint, (changes.get(mint) ?? 0n) + sign * amount);
  }
  out = changes.size > 0 ? changes : NONE;
  byTx.set(rec, out);
  return out;
}

/** Supply changes of the derived mints by block, summed on demand up to a slot. */
export function createSupplyHistory(
  ledger: Pick<Ledger, "slots" | "blocks">,
  synthetic: SyntheticSource,
  templates: Iterable<TxRecord>,
) {
  const byBlock = new WeakMap<BlockRecord, Changes>();
  // Most mints are never minted or burnt by a recorded transaction: their reads skip the walk over the blocks.
  const moving = new Set<string>();
  for (const t of templates) for (const mint of txSupplyChanges(t).keys()) moving.add(mint);

  const blockChanges = (b: BlockRecord): Changes => {
    let out = byBlock.get(b);
    if (out) return out;
    const sum = new Map<string, bigint>();
    const add = (rec: TxRecord) => {
      for (const [mint, d] of txSupplyChanges(rec)) sum.set(mint, (sum.get(mint) ?? 0n) + d);
    };
    for (const t of b.txs) add(t);
    if (b.synth) for (let i = 0; i < b.synth.count; i++) add(synthetic.templateAt(b.synth.start + i));
    out = sum.size > 0 ? sum : NONE;
    byBlock.set(b, out);
    return out;
  };

  return {
    /** Net mints less burns of `mint` in the blocks produced at or below `slot`. */
    changeUpTo(mint: string, slot: number): bigint {
      let total = 0n;
      if (!moving.has(mint)) return total;
      for (const s of ledger.slots) {
        if (s > slot) break;
        total += blockChanges(ledger.blocks.get(s)!).get(mint) ?? 0n;
      }
      return total;
    },
  };
}
