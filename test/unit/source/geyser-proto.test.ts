/**
 * The Geyser wire without proto-loader on the hot paths: the local chain's block updates (devchain/geyser-wire) are
 * what proto-loader's serializer writes, and the feed's reader (indexer/source/geyser-proto) gives, field for field,
 * what proto-loader's deserializer gives, on the recorded mainnet blocks whole and filtered on the presets, and on
 * the blocks a chain produces (recorded and synthetic), read as grpc-js hands them over.
 */
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type GeyserBlock, type GeyserUpdate, geyserService } from "../../../core/geyser.js";
import { PRESET_NAMES, resolvePrograms } from "../../../core/presets.js";
import type { RawBlock } from "../../../core/solana-types.js";
import { geyserBlock } from "../../../devchain/geyser-encode.js";
import { encodeBlockUpdate } from "../../../devchain/geyser-wire.js";
import { type Chain, createChain } from "../../../devchain/index.js";
import { parseLossless } from "../../../devchain/lossless-json.js";
import { ProtobufError, readGeyserUpdate } from "../../../indexer/source/geyser-proto.js";
import { fixturePath } from "../../setup/fixtures.js";

const SLOTS = [332254855, 332254908];
const raw = (slot: number) =>
  (
    JSON.parse(
      readFileSync(
        fixturePath("blocks", "getBlock-json-mainnet-converted", `mainnet_block_${slot}.converted.json`),
      ).toString(),
    ) as { result: RawBlock }
  ).result;
const tracked = new Set(resolvePrograms(PRESET_NAMES));
const method = () => geyserService().service.Subscribe!;
const protoLoaderRead = (b: Buffer) => method().responseDeserialize(b) as GeyserUpdate;

type Obj = Record<string, unknown>;
/** Of proto-loader's object, the fields slotline reads (core/geyser's shapes): the reader gives exactly these. */
function slotlineFields(b: GeyserBlock): GeyserBlock {
  const pick = <T extends Obj>(o: T, keys: string[]): T =>
    Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]])) as T;
  const ix = (i: Obj) => pick(i, ["program_id_index", "accounts", "data", "stack_height"]);
  const balance = (t: Obj) => ({
    ...pick(t, ["account_index", "mint", "owner", "program_id"]),
    ui_token_amount: pick(t.ui_token_amount as Obj, ["ui_amount", "decimals", "amount", "ui_amount_string"]),
  });
  return {
    ...pick(b as unknown as Obj, [
      "slot",
      "blockhash",
      "block_time",
      "block_height",
      "parent_slot",
      "parent_blockhash",
      "executed_transaction_count",
    ]),
    transactions: b.transactions.map((t) => {
      const m = t.transaction.message;
      const meta = t.meta as unknown as Obj;
      return {
        signature: t.signature,
        is_vote: t.is_vote,
        index: t.index,
        transaction: {
          signatures: t.transaction.signatures,
          message: {
            header: pick(m.header, [
              "num_required_signatures",
              "num_readonly_signed_accounts",
              "num_readonly_unsigned_accounts",
            ]),
            account_keys: m.account_keys,
            recent_blockhash: m.recent_blockhash,
            instructions: m.instructions.map((i) => ix(i as unknown as Obj)),
            versioned: m.versioned,
            address_table_lookups: m.address_table_lookups,
          },
        },
        meta: {
          ...pick(meta, [
            "err",
            "fee",
            "pre_balances",
            "post_balances",
            "inner_instructions_none",
            "log_messages",
            "log_messages_none",
            "loaded_writable_addresses",
            "loaded_readonly_addresses",
            "return_data",
            "return_data_none",
            "compute_units_consumed",
            "_compute_units_consumed",
          ]),
          inner_instructions: t.meta.inner_instructions.map((g) => ({
            index: g.index,
            instructions: g.instructions.map((i) => ix(i as unknown as Obj)),
          })),
          pre_token_balances: t.meta.pre_token_balances.map((x) => balance(x as unknown as Obj)),
          post_token_balances: t.meta.post_token_balances.map((x) => balance(x as unknown as Obj)),
          rewards: [],
        },
      };
    }),
  } as unknown as GeyserBlock;
}

describe("source/geyser-proto and devchain/geyser-wire", () => {
  test.each(
    SLOTS.flatMap((s) => [
      [s, "whole"],
      [s, "filtered"],
    ]),
  )("block %i (%s): the chain's bytes read as proto-loader reads them", (slot, kind) => {
    const block = geyserBlock(slot, raw(slot), kind === "filtered" ? { include: tracked } : {});
    const update: GeyserUpdate = { filters: ["slotline"], update_oneof: "block", block };
    const bytes = encodeBlockUpdate(["slotline"], block);
    // The encoder writes what proto-loader writes (read back, the same object).
    const expected = protoLoaderRead(bytes);
    expect(expected).toEqual(protoLoaderRead(method().responseSerialize(update)));
    const got = readGeyserUpdate(bytes);
    expect(got.update_oneof).toBe("block");
    expect(got.filters).toEqual(["slotline"]);
    expect(block.transactions.length).toBeGreaterThan(100);
    // Field by field, transaction by transaction: a difference names its place.
    const want = slotlineFields(expected.block!);
    const { transactions: gotTxs, ...gotHead } = got.block!;
    const { transactions: wantTxs, ...wantHead } = want;
    expect(gotHead).toEqual(wantHead);
    expect(gotTxs.length).toBe(wantTxs.length);
    for (let i = 0; i < wantTxs.length; i++) expect(gotTxs[i], `transaction ${i}`).toEqual(wantTxs[i]);
    // Failed transactions, inner instructions, v0 lookups, token balances and compute units are in these blocks.
    expect(gotTxs.some((t) => t.meta.err)).toBe(true);
    expect(gotTxs.some((t) => t.transaction.message.address_table_lookups.length > 0)).toBe(true);
    expect(gotTxs.some((t) => t.meta.pre_token_balances.length > 0)).toBe(true);
    expect(gotTxs.some((t) => t.meta.inner_instructions.some((g) => g.instructions[0]?.stack_height))).toBe(true);
  });

  test("u64 past 2^53, a negative block time, slots and pings read as proto-loader reads them", () => {
    const slot = SLOTS[0]!;
    const block = geyserBlock(slot, raw(slot), { include: tracked });
    block.slot = "18446744073709551615";
    block.block_time = { timestamp: -5 };
    block.transactions[0]!.meta.fee = "9007199254740993";
    block.transactions[0]!.meta.pre_balances = ["18446744073709551615", "0", "9007199254740992"];
    const bytes = encodeBlockUpdate(["a", "b"], block);
    expect(slotlineFields(protoLoaderRead(bytes).block!)).toEqual(readGeyserUpdate(bytes).block);
    expect(readGeyserUpdate(bytes).block!.transactions[0]!.meta.pre_balances[0]).toBe("18446744073709551615");
    for (const u of [
      { filters: ["slotline"], update_oneof: "slot", slot: { slot: "9007199254740993", parent: 4, status: 1 } },
      { filters: [], update_oneof: "ping", ping: {} },
      { filters: [], update_oneof: "pong", pong: { id: 3 } },
    ] as GeyserUpdate[]) {
      const b = method().responseSerialize(u);
      const want = protoLoaderRead(b);
      const got = readGeyserUpdate(b);
      expect(got.update_oneof).toBe(want.update_oneof);
      if (u.slot) expect(got.slot).toEqual({ slot: want.slot!.slot, parent: want.slot!.parent, status: 1 });
    }
  });

  test("cut or corrupt bytes throw rather than read as a smaller block", () => {
    const slot = SLOTS[1]!;
    const bytes = encodeBlockUpdate(["slotline"], geyserBlock(slot, raw(slot), { include: tracked }));
    expect(() => readGeyserUpdate(bytes.subarray(0, bytes.length - 7))).toThrow(ProtobufError);
    const bad = Buffer.from(bytes);
    bad[bad.length - 1] = 0xff;
    expect(() => readGeyserUpdate(Buffer.concat([bad, Buffer.from([0x80])]))).toThrow(ProtobufError);
  });
});

describe("the chain's Geyser server (encoded from its ledger)", () => {
  let chain: Chain;
  beforeAll(async () => {
    chain = await createChain({ port: 0, syntheticTps: 3_000, slotMs: 400, autoProduce: false, grpcReplaySlots: 1e6 });
    for (let i = 0; i < 6; i++) chain.tick();
  }, 120_000);
  afterAll(async () => {
    await chain?.close();
  });

  test("sends every confirmed block as the bytes of its getBlock answer's update, filtered or not", async () => {
    const getBlock = async (slot: number) => {
      const r = await fetch(chain.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "getBlock",
          params: [
            slot,
            { encoding: "json", maxSupportedTransactionVersion: 0, rewards: false, commitment: "confirmed" },
          ],
        }),
      });
      return (parseLossless(await r.text()).value as { result: RawBlock }).result;
    };
    const { service } = geyserService();
    const Client = grpc.makeGenericClientConstructor(
      { ...service, Subscribe: { ...service.Subscribe!, responseDeserialize: (b: Buffer) => b } },
      "Geyser",
    );
    const client = new Client(new URL(chain.grpcUrl).host, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": -1,
    });
    const tip = chain.slot("confirmed");
    const from = chain.history.slots.at(-1)! - 3;
    for (const include of [undefined, tracked]) {
      const call = (client.Subscribe as (md: grpc.Metadata) => grpc.ClientDuplexStream<unknown, Buffer>).call(
        client,
        new grpc.Metadata(),
      );
      const got = new Map<number, Buffer>();
      const done = new Promise<void>((resolve, reject) => {
        call.on("data", (b: Buffer) => {
          const u = readGeyserUpdate(b);
          if (u.update_oneof !== "block") return;
          got.set(Number(u.block!.slot), b);
          if (Number(u.block!.slot) >= tip) resolve();
        });
        call.on("error", reject);
      });
      call.write({
        blocks: { slotline: { ...(include ? { account_include: [...include] } : {}), include_transactions: true } },
        from_slot: String(from),
        commitment: 1,
      });
      await done;
      call.cancel();
      expect([...got.keys()].some((s) => s > chain.history.slots.at(-1)!)).toBe(true);
      for (const [slot, bytes] of got) {
        const want = encodeBlockUpdate(["slotline"], geyserBlock(slot, await getBlock(slot), { include }));
        expect(bytes.equals(want), `slot ${slot}`).toBe(true);
      }
    }
    client.close();
  }, 120_000);
});
