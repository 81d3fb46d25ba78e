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
import { blockFromResult } from "../../../indexer/source/blocks.js";
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
