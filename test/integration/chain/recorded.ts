/**
 * Test-side oracle: reads recorded fixtures on its own (independently of devchain's loader) and
 * compares what web3.js returns with them field by field.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import bs58 from "bs58";
import type { Message, MessageV0, VersionedMessage } from "@solana/web3.js";
import { expect } from "vitest";
import type { RawBlock, RawBlockTransaction, RawTransaction } from "../../../core/solana-types.js";

/** A recorded getTransaction result and the file it came from. */
export type RecordedTx = { file: string; result: RawTransaction };
/** A recorded getBlock result, its slot and file. */
export type RecordedBlock = { file: string; slot: number; result: RawBlock };

function files(p: string): string[] {
  if (statSync(p).isDirectory())
    return readdirSync(p)
      .sort()
      .flatMap((n) => (n.endsWith(".json") || statSync(path.join(p, n)).isDirectory() ? files(path.join(p, n)) : []));
  return [p];
}

/** Every json-encoded getTransaction and getBlock result under `paths`. */
export function readRecorded(paths: string[]): {
  txs: RecordedTx[];
  blocks: RecordedBlock[];
  jsonParsedFiles: string[];
} {
  const txs: RecordedTx[] = [];
  const blocks: RecordedBlock[] = [];
  const jsonParsedFiles: string[] = [];
  for (const file of paths.flatMap(files)) {
    const j = JSON.parse(readFileSync(file, "utf8"));
    for (const item of Array.isArray(j) ? j : [j]) {
      const r = "jsonrpc" in item ? item.result : item;
      if (Array.isArray(r.transactions)) {
        const nums = (path.basename(file).match(/\d+/g) ?? [])
          .map(Number)
          .filter((n) => n > r.parentSlot && n < r.parentSlot + 1000);
        blocks.push({ file, slot: nums[0] ?? r.parentSlot + 1, result: r });
      } else if (typeof r.transaction?.message?.accountKeys?.[0] === "string") {
        txs.push({ file, result: r });
      } else {
        jsonParsedFiles.push(file);
      }
    }
  }
  return { txs, blocks, jsonParsedFiles };
}

/** The json shape of a web3.js VersionedMessage, to compare with a recorded message. */
function messageShape(m: VersionedMessage) {
  if (m.version === 0) {
    const v = m as MessageV0;
    return {
      accountKeys: v.staticAccountKeys.map((k) => k.toBase58()),
      header: v.header,
      recentBlockhash: v.recentBlockhash,
      instructions: v.compiledInstructions.map((ix) => ({
        programIdIndex: ix.programIdIndex,
        accounts: [...ix.accountKeyIndexes],
        data: bs58.encode(ix.data),
      })),
      addressTableLookups: v.addressTableLookups.map((l) => ({
        accountKey: l.accountKey.toBase58(),
        writableIndexes: [...l.writableIndexes],
        readonlyIndexes: [...l.readonlyIndexes],
      })),
    };
  }
  const l = m as Message;
  return {
    accountKeys: l.accountKeys.map((k) => k.toBase58()),
    header: l.header,
    recentBlockhash: l.recentBlockhash,
    instructions: l.instructions.map((ix) => ({
      programIdIndex: ix.programIdIndex,
      accounts: ix.accounts,
      data: ix.data,
    })),
  };
}

/** Asserts that a transaction read through web3.js equals the recorded one, field by field. */
export function expectSameTx(
  got: { transaction: { signatures: string[]; message: VersionedMessage }; meta: unknown; version?: unknown },
  rec: RawBlockTransaction,
  where: string,
): void {
  expect(got.transaction.signatures, `${where} signatures`).toEqual(rec.transaction.signatures);
  const msg = rec.transaction.message;
  const want: Record<string, unknown> = {
    accountKeys: msg.accountKeys,
    header: msg.header,
    recentBlockhash: msg.recentBlockhash,
    instructions: msg.instructions.map((ix) => ({
      programIdIndex: ix.programIdIndex,
      accounts: ix.accounts,
      data: ix.data,
    })),
  };
  if (got.transaction.message.version === 0) want.addressTableLookups = msg.addressTableLookups ?? [];
  expect(messageShape(got.transaction.message), `${where} message`).toEqual(want);
  // web3.js turns meta.loadedAddresses into PublicKey objects; compare them as base58.
  const meta = got.meta as {
    loadedAddresses?: { writable: { toBase58(): string }[]; readonly: { toBase58(): string }[] };
  } | null;
  const gotMeta =
    meta && meta.loadedAddresses
      ? {
          ...meta,
          loadedAddresses: {
            writable: meta.loadedAddresses.writable.map((k) => k.toBase58()),
            readonly: meta.loadedAddresses.readonly.map((k) => k.toBase58()),
          },
        }
      : meta;
  expect(gotMeta, `${where} meta`).toEqual(rec.meta);
  expect(got.version, `${where} version`).toEqual(rec.version ?? "legacy");
}
