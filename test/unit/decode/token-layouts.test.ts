/**
 * The token programs' instruction layouts the fixtures do not hold, each checked against a real instruction of the
 * fixtures rewritten into its sibling layout (mintTo as mintToChecked, initializeAccount as initializeAccount2 and 3,
 * ...): the rows must not change. And what a token instruction the decoder does not decode leaves behind: a warning
 * with its discriminator, or nothing for the Token-2022 extensions and interface instructions it knows by name.
 */
import { createHash } from "node:crypto";
import bs58 from "bs58";
import { describe, expect, test } from "vitest";
import { type DecodedTransaction, createDecoder } from "../../../indexer/decode/index.js";
import { accountKeys } from "../../../indexer/decode/tx-view.js";
import { PRESET_NAMES, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "../../../core/presets.js";
import type { RawBlockTransaction } from "../../../core/solana-types.js";
import { fixturePath } from "../../setup/fixtures.js";
import { instructionAt, stripped } from "./edit-tx.js";
import { readFixtureFile } from "./fixture-txs.js";
import { shared } from "./shared.js";

const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));

/** One recorded transaction, read from its file inside the test. */
function recorded(file: string, txIndex = 0) {
  return readFixtureFile(fixturePath(...file.split("/")))[txIndex]!;
}

/** The transaction with the instruction at `path` given new data (bytes) and, when given, new accounts. */
function rewritten(tx: RawBlockTransaction, path: string, data: number[], accounts?: number[]): RawBlockTransaction {
  const copy = structuredClone(tx);
  const ix = instructionAt(copy, path);
  ix.data = bs58.encode(Uint8Array.from(data));
  if (accounts) ix.accounts = accounts;
  return copy;
}

const bytes = (ix: { data: string }) => [...bs58.decode(ix.data)];

/** The rows of a decoded transaction, without its warnings. */
function rows(d: DecodedTransaction) {
  const { warnings: _, ...rest } = d;
  return rest;
}

/** A swap through Jupiter: 6.1.2.2 a mintTo of an LP mint (9 bytes: tag, amount), 6.1.3.2 a burn. */
const MINT_AND_BURN = "jupiter/transactions-from-mainnet-blocks/332254855_191_2rDZQi14yvk5ZrUF.json";
/** A Raydium AMM v4 swap: 3 initializeAccount of a wSOL account (account, mint, owner, rent), 4.2 a plain transfer into it. */
const INIT_ACCOUNT = "raydium-amm-v4/transactions/raydiumLiquidityPoolV4_swap_0.json";
/** An OKX swap: 6 an ATA createIdempotent of an account that exists (no initializeAccount3 under it), 7.1.2 a transfer into it. */
const ATA_IDEMPOTENT = "other-aggregators/transactions/OKXDEX_swap_1.json";
/** Orca's position mint: 1.3 initializeMintCloseAuthority (25), 1.4 an extension (39), 1.7 token-metadata initialize. */
const ORCA_T22_MINT =
  "orca-whirlpool/blocks-localnet/tokenExtensionsBasedPositionNft__openPositionWithTokenExtensions.json";

describe("token instruction layouts: a real instruction rewritten into its sibling layout keeps its rows", () => {
  test("mintTo as mintToChecked, burn as burnChecked (the decimals byte after the amount)", () => {
    const f = recorded(MINT_AND_BURN);
    const d = decoder().decodeTransaction(f.tx, f)!;
    const minted = d.transfers.find((t) => t.instructionPath === "6.1.2.2")!;
    const burnt = d.transfers.find((t) => t.instructionPath === "6.1.3.2")!;
    expect(minted).toMatchObject({ kind: "mint", source: null, destination: expect.any(String) });
    expect(burnt).toMatchObject({ kind: "burn", destination: null, source: expect.any(String) });
    const mintTo = bytes(instructionAt(f.tx, "6.1.2.2"));
    const burn = bytes(instructionAt(f.tx, "6.1.3.2"));
    expect([mintTo[0], burn[0]]).toEqual([7, 8]);
    const checked = rewritten(rewritten(f.tx, "6.1.2.2", [14, ...mintTo.slice(1, 9), 6]), "6.1.3.2", [
      15,
      ...burn.slice(1, 9),
      6,
    ]);
    expect(rows(decoder().decodeTransaction(checked, f)!)).toEqual(rows(d));
  });

  test("initializeAccount as initializeAccount2 and 3 (the owner in the data): without balances, the same mint and owner", () => {
    const f = recorded(INIT_ACCOUNT);
    const keys = accountKeys(f.tx);
    const init = instructionAt(f.tx, "3");
    expect(bytes(init)).toEqual([1]);
    const [account, mint, owner, rent] = init.accounts as [number, number, number, number];
    const bare = stripped(f.tx);
    const d = decoder().decodeTransaction(bare, f)!;
    // the plain transfer into the account knows its mint and owner only from the initialisation
    expect(d.transfers.find((t) => t.instructionPath === "4.2")).toMatchObject({
      kind: "transfer",
      destination: keys[account],
      mint: keys[mint],
      destinationOwner: keys[owner],
    });
    const ownerBytes = [...bs58.decode(keys[owner]!)];
    const two = rewritten(bare, "3", [16, ...ownerBytes], [account, mint, rent]);
    const three = rewritten(bare, "3", [18, ...ownerBytes], [account, mint]);
    expect(rows(decoder().decodeTransaction(two, f)!)).toEqual(rows(d));
    expect(rows(decoder().decodeTransaction(three, f)!)).toEqual(rows(d));
  });

  test("an ATA create is create (0), createIdempotent (1) or no data; recoverNested (2) and others name no owner", () => {
    const f = recorded(ATA_IDEMPOTENT);
    const keys = accountKeys(f.tx);
    const ata = instructionAt(f.tx, "6");
    expect(bytes(ata)).toEqual([1]);
    const bare = stripped(f.tx);
    const d = decoder().decodeTransaction(bare, f)!;
    // payer, account, wallet, mint: the account already existed, only the ATA instruction names its owner and mint
    const into = d.transfers.find((t) => t.instructionPath === "7.1.2")!;
    expect(into).toMatchObject({ destination: keys[ata.accounts[1]!], destinationOwner: keys[ata.accounts[2]!] });
    for (const data of [[0], []])
      expect(rows(decoder().decodeTransaction(rewritten(bare, "6", data), f)!)).toEqual(rows(d));
    for (const data of [[2], [3]]) {
      const e = decoder().decodeTransaction(rewritten(bare, "6", data), f)!;
      expect(e.transfers.find((t) => t.instructionPath === "7.1.2")).toEqual({ ...into, destinationOwner: null });
    }
  });
});

describe("token instructions that move nothing: no warning for those known by name, a warning for the others", () => {
  test("every Token-2022 extension (25..44) and its interface instructions pass without a warning; 45 and past are unknown", () => {
    const f = recorded(ORCA_T22_MINT, 1);
    const d = decoder().decodeTransaction(f.tx, f)!;
    expect(d.warnings).toEqual([]);
    const ext = bytes(instructionAt(f.tx, "1.3"));
    expect(ext[0]).toBe(25);
    for (let tag = 25; tag <= 44; tag++) {
      // (26 is the transfer fee extension, whose sub-instruction 1 moves tokens: here 0, initializeTransferFeeConfig)
      const data = tag === 26 ? [26, 0, ...ext.slice(2)] : [tag, ...ext.slice(1)];
      const e = decoder().decodeTransaction(rewritten(f.tx, "1.3", data), f)!;
      expect(e.warnings, `tag ${tag}`).toEqual([]);
      expect(rows(e)).toEqual(rows(d));
    }
    const past = decoder().decodeTransaction(rewritten(f.tx, "1.3", [45, ...ext.slice(1)]), f)!;
    expect(past.warnings).toEqual([
      {
        kind: "unknown_instruction",
        programId: TOKEN_2022_PROGRAM_ID,
        discriminator: Buffer.from([45, ...ext.slice(1, 8)]).toString("hex"),
        signature: d.transaction.signature,
        instructionPath: "1.3",
      },
    ]);
    // a short one is reported by the bytes it has
    const short = decoder().decodeTransaction(rewritten(f.tx, "1.3", [45, 1, 2]), f)!;
    expect(short.warnings.map((w) => "discriminator" in w && w.discriminator)).toEqual(["2d0102"]);
  });

  test("the token-metadata interface's initialize is known by its 8-byte discriminator; another 8 bytes are not", () => {
    const f = recorded(ORCA_T22_MINT, 1);
    const meta = bytes(instructionAt(f.tx, "1.7"));
    expect(Buffer.from(meta.slice(0, 8)).toString("hex")).toBe("d2e11ea258b84d8d");
    const edited = [meta[0]!, meta[1]! ^ 1, ...meta.slice(2)];
    const e = decoder().decodeTransaction(rewritten(f.tx, "1.7", edited), f)!;
    expect(e.warnings).toEqual([
      expect.objectContaining({
        kind: "unknown_instruction",
        discriminator: Buffer.from(edited.slice(0, 8)).toString("hex"),
        instructionPath: "1.7",
      }),
    ]);
  });

  test("each token-metadata and token-group interface instruction (sha256 of its name) passes without a warning", () => {
    const f = recorded(ORCA_T22_MINT, 1);
    const meta = bytes(instructionAt(f.tx, "1.7"));
    const names = [
      "spl_token_metadata_interface:initialize_account",
      "spl_token_metadata_interface:updating_field",
      "spl_token_metadata_interface:remove_key_ix",
      "spl_token_metadata_interface:update_the_authority",
      "spl_token_metadata_interface:emitter",
      "spl_token_group_interface:initialize_token_group",
      "spl_token_group_interface:update_group_max_size",
      "spl_token_group_interface:update_authority",
      "spl_token_group_interface:initialize_member",
    ];
    for (const name of names) {
      const disc = [...createHash("sha256").update(name).digest().subarray(0, 8)];
      // the discriminator alone (8 bytes) and with the recorded instruction's arguments after it
      for (const data of [disc, [...disc, ...meta.slice(8)]]) {
        const e = decoder().decodeTransaction(rewritten(f.tx, "1.7", data), f)!;
        expect(e.warnings, `${name} ${data.length}`).toEqual([]);
      }
    }
  });

  test("SPL Token has no extensions: its tag 25 is unknown (reported by its tag byte), as is an instruction without data", () => {
    const f = recorded(INIT_ACCOUNT);
    const d = decoder().decodeTransaction(f.tx, f)!;
    const base = { programId: TOKEN_PROGRAM_ID, signature: d.transaction.signature, instructionPath: "3" };
    const tag25 = decoder().decodeTransaction(rewritten(f.tx, "3", [25, 1]), f)!;
    expect(tag25.warnings).toEqual([{ kind: "unknown_instruction", ...base, discriminator: "19" }]);
    const empty = decoder().decodeTransaction(rewritten(f.tx, "3", []), f)!;
    expect(empty.warnings).toEqual([{ kind: "unknown_instruction", ...base, discriminator: "" }]);
    expect(rows(empty)).toEqual(rows(tag25));
  });

  test("an instruction cut short is a decode_error on its two-digit tag and moves or sets nothing", () => {
    const f = recorded(INIT_ACCOUNT);
    const d = decoder().decodeTransaction(f.tx, f)!;
    const transfer = bytes(instructionAt(f.tx, "4.2"));
    expect(transfer[0]).toBe(3);
    const cut = decoder().decodeTransaction(rewritten(f.tx, "4.2", transfer.slice(0, 5)), f)!;
    expect(cut.warnings).toEqual([
      expect.objectContaining({ kind: "decode_error", discriminator: "03", instructionPath: "4.2" }),
    ]);
    expect(cut.transfers).toEqual(d.transfers.filter((t) => t.instructionPath !== "4.2"));
    // initializeMint2 cut inside its mint authority: no authorities, no decimals taken from it
    const p = recorded("pumpfun/transactions/pumpfun_create_0.json");
    const init = bytes(instructionAt(p.tx, "3.2"));
    expect(init[0]).toBe(20);
    const bare = stripped(p.tx);
    const mintCut = decoder().decodeTransaction(rewritten(bare, "3.2", init.slice(0, 20)), p)!;
    expect(mintCut.warnings).toContainEqual(
      expect.objectContaining({ kind: "decode_error", discriminator: "14", instructionPath: "3.2" }),
    );
    // what is left is the setAuthority(MintTokens, None) of 3.7
    expect(mintCut.tokens).toEqual([
      {
        mint: accountKeys(p.tx)[instructionAt(p.tx, "3.2").accounts[0]!],
        program: "spl-token",
        decimals: null,
        slot: p.slot,
        mintAuthority: null,
      },
    ]);
  });
});
