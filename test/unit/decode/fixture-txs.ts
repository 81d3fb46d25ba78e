/**
 * Every real transaction in ../shared/fixtures that the decode tests run over: single transactions
 * (getTransaction results in their various envelopes) and the transactions of recorded blocks.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { RawBlock, RawBlockTransaction } from "../../../core/solana-types.js";
import type { DecodedBlock, Decoder } from "../../../indexer/decode/index.js";
import { FIXTURES_DIR, fixturePath } from "../../setup/fixtures.js";

/** One fixture transaction with where it came from. */
export type FixtureTx = {
  file: string;
  folder: string;
  program: string;
  tx: RawBlockTransaction;
  slot: number;
  blockTime: number | null;
  txIndex: number;
};

/** Folders of single transactions or blocks, per program folder. */
const TX_FOLDERS =
  /^(transactions|transactions-from-mainnet-blocks|transactions-converted-from-geyser|transactions-devnet|blocks-mainnet|blocks-localnet)$/;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : n.endsWith(".json") ? [p] : [];
  });
}

function unwrap(json: unknown): unknown[] {
  if (Array.isArray(json)) return json.flatMap(unwrap);
  if (json && typeof json === "object" && "result" in json) return unwrap((json as { result: unknown }).result);
  return json ? [json] : [];
}

function slotFromName(file: string): number | undefined {
  const m = /(\d{6,})/.exec(path.basename(file));
  return m ? Number(m[1]) : undefined;
}

/** Reads one fixture file into its transactions (a block file yields each of its transactions). */
export function readFixtureFile(file: string): FixtureTx[] {
  const rel = path.relative(FIXTURES_DIR, file);
  const [program = "", folder = ""] = rel.split(path.sep);
  const out: FixtureTx[] = [];
  for (const item of unwrap(JSON.parse(readFileSync(file, "utf8")))) {
    const o = item as Record<string, unknown>;
    if (Array.isArray(o.transactions)) {
      const block = o as unknown as RawBlock & { slot?: number };
      const slot = block.slot ?? slotFromName(file) ?? block.parentSlot + 1;
      block.transactions.forEach((tx, i) =>
        out.push({ file: rel, folder, program, tx, slot, blockTime: block.blockTime ?? null, txIndex: i }),
      );
    } else if (o.transaction && typeof o.transaction === "object" && "message" in (o.transaction as object)) {
      const tx = o as unknown as RawBlockTransaction & { slot?: number; blockTime?: number | null };
      out.push({ file: rel, folder, program, tx, slot: tx.slot ?? 0, blockTime: tx.blockTime ?? null, txIndex: 0 });
    }
  }
  return out;
}

/** True for a transaction in `json` encoding (string account keys), the shape the decoder reads. */
export function isJsonEncoding(f: FixtureTx): boolean {
  return f.tx.transaction.message.accountKeys.every((k) => typeof k === "string");
}

/** All fixture transactions of the program folders (transactions/, derived ones, blocks-*). */
export function programFixtureTxs(): FixtureTx[] {
  const root = fixturePath();
  const out: FixtureTx[] = [];
  for (const program of readdirSync(root)) {
    const dir = path.join(root, program);
    if (!statSync(dir).isDirectory() || program === "blocks") continue;
    for (const folder of readdirSync(dir)) {
      if (!TX_FOLDERS.test(folder)) continue;
      for (const f of walk(path.join(dir, folder))) out.push(...readFixtureFile(f));
    }
  }
  return out;
}

/** The two whole mainnet blocks (3,307 transactions, votes included). */
export function wholeBlockFiles(): string[] {
  const dir = fixturePath("blocks", "getBlock-json-mainnet-converted");
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .map((n) => path.join(dir, n));
}

/** A whole block file as a RawBlock with its slot. */
export function readWholeBlock(file: string): { slot: number; block: RawBlock } {
  const json = JSON.parse(readFileSync(file, "utf8")) as { result: RawBlock };
  return { slot: slotFromName(file) ?? json.result.parentSlot + 1, block: json.result };
}

let cache: FixtureTx[] | undefined;

/** Every fixture transaction in `json` encoding: program folders plus all whole blocks (mainnet and devnet). */
export function allFixtureTxs(): FixtureTx[] {
  cache ??= [...programFixtureTxs(), ...walk(fixturePath("blocks")).flatMap(readFixtureFile)].filter(isJsonEncoding);
  return cache;
}

/** The few fixture transactions in `jsonParsed` encoding, which the decoder must pass over without throwing. */
export function jsonParsedFixtureTxs(): FixtureTx[] {
  return programFixtureTxs().filter((f) => !isJsonEncoding(f));
}

/**
 * Every recorded transaction with a two-hop swap (a second leg at path N#1), decoded by `decoder`, as one block per
 * recorded slot, each transaction once (a transaction may be recorded in several folders).
 */
export function twoHopBlocks(decoder: Pick<Decoder, "decodeTransaction">): DecodedBlock[] {
  const bySlot = new Map<number, DecodedBlock>();
  const seen = new Set<string>();
  for (const f of allFixtureTxs()) {
    const d = decoder.decodeTransaction(f.tx, { slot: f.slot, blockTime: f.blockTime ?? 0, txIndex: f.txIndex });
    if (!d?.swaps.some((s) => s.instructionPath.includes("#")) || seen.has(d.transaction.signature)) continue;
    seen.add(d.transaction.signature);
    const block = bySlot.get(f.slot) ?? {
      slot: f.slot,
      parentSlot: f.slot - 1,
      blockhash: `b${f.slot}`,
      blockTime: f.blockTime,
      txCount: 0,
      transactions: [],
    };
    block.transactions.push(d);
    block.txCount++;
    bySlot.set(f.slot, block);
  }
  return [...bySlot.values()];
}
