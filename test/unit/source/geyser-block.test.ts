/**
 * A block as Geyser streams it reads as its getBlock answer: the two recorded mainnet blocks, put in the
 * SubscribeUpdateBlock shape (as the local chain serves them), through the protobuf wire (the service's own
 * serializer), back to answer text, decode to the same rows as the recorded answers. Transaction errors go
 * through their bincode form and back.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { type GeyserUpdate, geyserService } from "../../../core/geyser.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import type { RawBlock } from "../../../core/solana-types.js";
import { decodeTransactionError, encodeTransactionError } from "../../../core/transaction-error.js";
import { geyserBlock } from "../../../devchain/geyser-encode.js";
import { createDecoder } from "../../../indexer/decode/index.js";
import { parseBlockAnswers } from "../../../indexer/source/block-json.js";
import { blockFromResult, blocksWithAnswers } from "../../../indexer/source/blocks.js";
import { blockAnswerText } from "../../../indexer/source/geyser-block.js";
import { fixturePath } from "../../setup/fixtures.js";

const SLOTS = [332254855, 332254908];
const text = (slot: number) =>
  readFileSync(fixturePath("blocks", "getBlock-json-mainnet-converted", `mainnet_block_${slot}.converted.json`));
const decoder = createDecoder({ programs: PRESET_NAMES });
const decodeAnswer = (slot: number, body: Buffer) =>
  decoder.decodeBlock(blockFromResult(slot, (parseBlockAnswers(body) as { result: unknown }).result), slot);

/** The update through the wire as a Yellowstone server sends it and slotline's client reads it. */
function overTheWire(u: GeyserUpdate): GeyserUpdate {
  const m = geyserService().service.Subscribe!;
  return m.responseDeserialize(m.responseSerialize(u)) as GeyserUpdate;
}

describe("source/geyser-block", () => {
  test.each(SLOTS)("block %i streamed over gRPC decodes to the rows of its getBlock answer", (slot) => {
    const raw = (JSON.parse(text(slot).toString()) as { result: RawBlock }).result;
    const update = overTheWire({ filters: ["slotline"], update_oneof: "block", block: geyserBlock(slot, raw) });
    const answer = blockAnswerText(update.block!);
    expect(answer).toBeDefined();
    const fromStream = decodeAnswer(slot, answer!);
    const fromRpc = decodeAnswer(slot, text(slot));
    expect(fromStream.transactions.length).toBeGreaterThan(100);
    expect(fromStream).toEqual(fromRpc);
    // Failed transactions are in these blocks: their errors came back through bincode.
    expect(fromStream.transactions.filter((t) => !t.transaction.success).length).toBeGreaterThan(0);
  });

  test("a filtered block (fewer transactions than it executed) is not told as a whole block", () => {
    const slot = SLOTS[0]!;
    const raw = (JSON.parse(text(slot).toString()) as { result: RawBlock }).result;
    const block = geyserBlock(slot, raw);
    block.transactions = block.transactions.slice(1);
    expect(blockAnswerText(block)).toBeUndefined();
  });

  test.each(SLOTS)(
    "block %i filtered on the presets (account_include) decodes to the rows of its whole getBlock answer",
    async (slot) => {
      const raw = (JSON.parse(text(slot).toString()) as { result: RawBlock }).result;
      const programs = [...decoder.trackedProgramIds];
      const block = geyserBlock(slot, raw, { include: decoder.trackedProgramIds });
      expect(block.transactions.length).toBeLessThan(raw.transactions.length / 2);
      const update = overTheWire({ filters: ["slotline"], update_oneof: "block", block });
      const answer = blockAnswerText(update.block!, programs)!;
      // Nothing over RPC: a call would throw.
      const rpc = { call: () => Promise.reject(new Error("no RPC")), batch: () => Promise.reject(new Error("no RPC")) };
      const got = await blocksWithAnswers(rpc as never, [slot], [answer], "confirmed", {
        programs: decoder.trackedProgramIds,
      });
      const fromStream = decoder.decodeBlock(got.blocks[0]!.block, slot);
      expect(fromStream.txCount).toBe(raw.transactions.length);
      expect(fromStream).toEqual(decodeAnswer(slot, text(slot)));
    },
  );

  test("a filtered answer stands for its block only for a decoder tracking no program outside the filter", async () => {
    const slot = SLOTS[0]!;
    const raw = (JSON.parse(text(slot).toString()) as { result: RawBlock }).result;
    const dex = createDecoder({ programs: ["raydium-amm-v4"] });
    const answer = blockAnswerText(geyserBlock(slot, raw, { include: dex.trackedProgramIds }), [
      ...dex.trackedProgramIds,
    ])!;
    const fetched: number[] = [];
    const rpc = {
      batch: async (calls: { params: [number] }[]) => {
        fetched.push(...calls.map((c) => c.params[0]));
        return calls.map(() => ({ result: raw }));
      },
    };
    // The worker tracks every preset: the answer filtered on one program is not enough, the block is fetched.
    await blocksWithAnswers(rpc as never, [slot], [answer], "confirmed", { programs: decoder.trackedProgramIds });
    expect(fetched).toEqual([slot]);
    fetched.length = 0;
    await blocksWithAnswers(rpc as never, [slot], [answer], "confirmed", { programs: dex.trackedProgramIds });
    expect(fetched).toEqual([]);
  });

  test("transaction errors: every recorded form round-trips; Agave's bincode of a custom error decodes", () => {
    const errs = SLOTS.flatMap((s) =>
      (JSON.parse(text(s).toString()) as { result: RawBlock }).result.transactions
        .map((t) => t.meta?.err)
        .filter((e) => e != null),
    );
    const forms = [
      ...errs,
      "AccountInUse",
      "CommitCancelled",
      { InstructionError: [0, "InvalidAccountData"] },
      { InstructionError: [3, "BuiltinProgramsMustConsumeComputeUnits"] },
      { InstructionError: [1, { BorshIoError: "Unknown" }] },
      { DuplicateInstruction: 4 },
      { InsufficientFundsForRent: { account_index: 14 } },
    ];
    expect(errs.length).toBeGreaterThan(0);
    for (const e of forms) expect(decodeTransactionError(encodeTransactionError(e)!)).toEqual(e);
    // TransactionError::InstructionError(2, InstructionError::Custom(6001)): variant 8, u8 2, variant 25, u32 6001
    const bytes = Buffer.from([8, 0, 0, 0, 2, 25, 0, 0, 0, 0x71, 0x17, 0, 0]);
    expect(decodeTransactionError(bytes)).toEqual({ InstructionError: [2, { Custom: 6001 }] });
    // A variant past the table, or trailing bytes: not guessed.
    expect(decodeTransactionError(Buffer.from([200, 0, 0, 0]))).toBeUndefined();
    expect(decodeTransactionError(Buffer.from([0, 0, 0, 0, 1]))).toBeUndefined();
  });
});
