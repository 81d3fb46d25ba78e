/**
 * Token rows against the transaction's own token balances: the mint, owners and tokens each transfer row and token
 * entry names, and what the decoder falls back on when the balances do not name an account (the same recorded
 * transaction with its pre/postTokenBalances removed): the mint and owner its initializeAccount* or ATA creation
 * gave, the signing authority as a transfer's source owner, and a warning instead of a row when no mint is known.
 */
import bs58 from "bs58";
import { describe, expect, test } from "vitest";
import { createDecoder } from "../../../indexer/decode/index.js";
import { accountKeys, createTxView } from "../../../indexer/decode/tx-view.js";
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  PRESET_NAMES,
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
} from "../../../core/presets.js";
import type { RawBlockTransaction } from "../../../core/solana-types.js";
import { fixturePath } from "../../setup/fixtures.js";
import { instructionAt, stripped } from "./edit-tx.js";
import { allFixtureTxs, readFixtureFile } from "./fixture-txs.js";
import { shared } from "./shared.js";

const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));

/**
 * What the instructions themselves say, read with the SPL layouts written out here: per instruction path, the
 * authority account of a transfer; per account, the mint and owner of its initializeAccount* or ATA creation.
 */
function fromInstructions(tx: RawBlockTransaction) {
  const view = createTxView(tx);
  const keys = accountKeys(tx);
  const authority = new Map<string, string>();
  const mintOf = new Map<string, string>();
  const ownerOf = new Map<string, string>();
  for (const ix of view.ixs) {
    const data = bs58.decode(ix.data);
    const acc = (i: number) => keys[ix.accounts[i]!]!;
    if (ix.programId === TOKEN_PROGRAM_ID || ix.programId === TOKEN_2022_PROGRAM_ID) {
      const tag = data[0];
      if (tag === 3) authority.set(ix.path, acc(2));
      else if (tag === 12 || (tag === 26 && data[1] === 1)) authority.set(ix.path, acc(3));
      else if (tag === 1 || tag === 16 || tag === 18) {
        if (!mintOf.has(acc(0))) mintOf.set(acc(0), acc(1));
        const owner = tag === 1 ? acc(2) : bs58.encode(data.subarray(1, 33));
        if (!ownerOf.has(acc(0))) ownerOf.set(acc(0), owner);
      }
    } else if (ix.programId === ASSOCIATED_TOKEN_PROGRAM_ID && (data.length === 0 || data[0] === 0 || data[0] === 1)) {
      if (!mintOf.has(acc(1))) mintOf.set(acc(1), acc(3));
      if (!ownerOf.has(acc(1))) ownerOf.set(acc(1), acc(2));
    }
  }
  return { authority, mintOf, ownerOf };
}

describe("token rows: mints and owners", () => {
  const decoded = shared(() =>
    allFixtureTxs().flatMap((f) => {
      if (f.tx.meta?.err) return [];
      const d = decoder().decodeTransaction(f.tx, f);
      return d && d.transfers.length > 0 ? [{ f, d }] : [];
    }),
  );

  test("with the balances, every transfer's mint and owners are those the balances give its accounts", () => {
    let checked = 0;
    for (const { f, d } of decoded()) {
      const keys = accountKeys(f.tx);
      const bal = new Map<string, { mint: string; owner?: string }>();
      for (const b of [...(f.tx.meta!.preTokenBalances ?? []), ...(f.tx.meta!.postTokenBalances ?? [])])
        bal.set(keys[b.accountIndex]!, { mint: b.mint, owner: b.owner || bal.get(keys[b.accountIndex]!)?.owner });
      for (const t of d.transfers) {
        const where = `${f.file} ${t.instructionPath}`;
        const src = t.source ? bal.get(t.source) : undefined;
        const dst = t.destination ? bal.get(t.destination) : undefined;
        if (src) expect(t.mint, where).toBe(src.mint);
        if (dst) expect(t.mint, where).toBe(dst.mint);
        if (src?.owner) expect(t.sourceOwner, where).toBe(src.owner);
        if (dst?.owner) expect(t.destinationOwner, where).toBe(dst.owner);
        if (t.kind === "mint") expect(t.source, where).toBeNull();
        if (t.kind === "burn") expect(t.destination, where).toBeNull();
        if (src?.owner && dst?.owner) checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  test("without the balances: the same rows where the instructions name the mint, else a warning instead", () => {
    let same = 0;
    let dropped = 0;
    for (const { f, d } of decoded()) {
      const s = decoder().decodeTransaction(stripped(f.tx), f)!;
      const { mintOf } = fromInstructions(f.tx);
      for (const o of d.transfers) {
        const where = `${f.file} ${o.instructionPath}`;
        const t = s.transfers.find((x) => x.instructionPath === o.instructionPath);
        if (!t) {
          // no mint in the instruction (a plain transfer) and neither account initialised here
          expect(mintOf.has(o.source ?? "") || mintOf.has(o.destination ?? ""), where).toBe(false);
          expect(s.warnings, where).toContainEqual(
            expect.objectContaining({
              kind: "decode_error",
              instructionPath: o.instructionPath,
              discriminator: "",
              signature: d.transaction.signature,
            }),
          );
          dropped++;
          continue;
        }
        // a Token-2022 fee the instruction does not carry is inferred from the balances: without them it is 0
        expect([o.fee, 0n], where).toContain(t.fee);
        expect({ ...t, sourceOwner: null, destinationOwner: null, fee: 0n }, where).toEqual({
          ...o,
          sourceOwner: null,
          destinationOwner: null,
          fee: 0n,
        });
        same++;
      }
    }
    expect(same).toBeGreaterThan(500);
    expect(dropped).toBeGreaterThan(50);
  });

  test("without the balances: mints of accounts the transaction initialises, owners it set, the signing authority as source owner", () => {
    let mintFromInit = 0;
    let ownerFromInit = 0;
    let fromAuthority = 0;
    for (const { f, d } of decoded()) {
      const s = decoder().decodeTransaction(stripped(f.tx), f)!;
      const { authority, mintOf, ownerOf } = fromInstructions(f.tx);
      for (const t of s.transfers) {
        const where = `${f.file} ${t.instructionPath}`;
        const o = d.transfers.find((x) => x.instructionPath === t.instructionPath)!;
        const viaInit = !o.mint || (mintOf.get(t.source ?? "") ?? mintOf.get(t.destination ?? "")) === o.mint;
        if (mintOf.has(t.source ?? "") || mintOf.has(t.destination ?? "")) {
          expect(viaInit, where).toBe(true);
          mintFromInit++;
        }
        const initOwner = t.destination ? ownerOf.get(t.destination) : undefined;
        expect(t.destinationOwner, where).toBe(initOwner ?? null);
        // (the owner as initialised: a later setAuthority(AccountOwner) in the transaction is not followed)
        if (initOwner) ownerFromInit++;
        const srcOwner = t.source ? ownerOf.get(t.source) : undefined;
        if (srcOwner) expect(t.sourceOwner, where).toBe(srcOwner);
        else if (t.kind === "transfer") {
          expect(t.sourceOwner, where).toBe(authority.get(t.instructionPath));
          fromAuthority++;
        } else expect(t.sourceOwner, where).toBeNull();
      }
    }
    expect(mintFromInit).toBeGreaterThan(20);
    expect(ownerFromInit).toBeGreaterThan(20);
    expect(fromAuthority).toBeGreaterThan(200);
  });
});

describe("token rows: balances without owners or programs (as old ledger data gives them)", () => {
  test("owners come from the instructions as without balances; mints stay the balances'; tokens are SPL Token", () => {
    let checked = 0;
    for (const f of allFixtureTxs()) {
      if (f.tx.meta?.err || !(f.tx.meta?.postTokenBalances ?? []).length) continue;
      const old = structuredClone(f.tx);
      for (const b of [...(old.meta!.preTokenBalances ?? []), ...(old.meta!.postTokenBalances ?? [])]) {
        delete (b as { owner?: string }).owner;
        delete (b as { programId?: string }).programId;
      }
      const o = decoder().decodeTransaction(old, f);
      if (!o || o.transfers.length === 0) continue;
      const d = decoder().decodeTransaction(f.tx, f)!;
      const s = decoder().decodeTransaction(stripped(f.tx), f)!;
      for (const t of o.transfers) {
        const where = `${f.file} ${t.instructionPath}`;
        const full = d.transfers.find((x) => x.instructionPath === t.instructionPath)!;
        const bare = s.transfers.find((x) => x.instructionPath === t.instructionPath);
        expect(t.mint, where).toBe(full.mint);
        if (bare) {
          expect(t.sourceOwner, where).toBe(bare.sourceOwner);
          expect(t.destinationOwner, where).toBe(bare.destinationOwner);
        }
      }
      for (const tk of o.tokens) expect(tk.program, f.file).toBe("spl-token");
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe("token rows: tokens seen", () => {
  test("every token seen is a mint: of a balance, a movement, an initializeMint* or a mint's setAuthority", () => {
    let authorities = 0;
    for (const f of allFixtureTxs()) {
      const d = decoder().decodeTransaction(f.tx, f);
      if (!d?.transaction.success) continue;
      const keys = accountKeys(f.tx);
      const mints = new Set([
        ...[...(f.tx.meta?.preTokenBalances ?? []), ...(f.tx.meta?.postTokenBalances ?? [])].map((b) => b.mint),
        ...d.transfers.map((t) => t.mint),
      ]);
      for (const ix of createTxView(f.tx).ixs) {
        if (ix.programId !== TOKEN_PROGRAM_ID && ix.programId !== TOKEN_2022_PROGRAM_ID) continue;
        const b = bs58.decode(ix.data);
        // initializeMint/2 name the mint first; setAuthority 0 (MintTokens) and 1 (FreezeAccount) are a mint's
        if (b[0] === 0 || b[0] === 20 || (b[0] === 6 && (b[1] === 0 || b[1] === 1))) mints.add(keys[ix.accounts[0]!]!);
        if (b[0] === 6) authorities++;
      }
      for (const t of d.tokens) expect(mints, `${f.file} ${t.mint}`).toContain(t.mint);
    }
    expect(authorities).toBeGreaterThan(0);
  });

  test("every mint the balances name is seen once, with its decimals and its token program", () => {
    let checked = 0;
    for (const f of allFixtureTxs()) {
      const d = decoder().decodeTransaction(f.tx, f);
      // a failed transaction's instructions did nothing: it has no token rows
      if (!d?.transaction.success) continue;
      const balances = [...(f.tx.meta?.preTokenBalances ?? []), ...(f.tx.meta?.postTokenBalances ?? [])];
      const mints = d.tokens.map((t) => t.mint);
      expect(new Set(mints).size, f.file).toBe(mints.length);
      for (const b of balances) {
        const t = d.tokens.find((x) => x.mint === b.mint);
        expect(t, f.file).toBeDefined();
        expect(t!.decimals, f.file).toBe(b.uiTokenAmount.decimals);
        expect(t!.slot, f.file).toBe(f.slot);
        if (b.programId)
          expect(t!.program, f.file).toBe(b.programId === TOKEN_2022_PROGRAM_ID ? "token-2022" : "spl-token");
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });

  test("a mint the transaction initialises carries its decimals, and its authorities after the transaction's setAuthority", () => {
    let checked = 0;
    for (const f of allFixtureTxs()) {
      if (f.tx.meta?.err) continue;
      const keys = accountKeys(f.tx);
      const inits = createTxView(f.tx).ixs.flatMap((ix) => {
        if (ix.programId !== TOKEN_PROGRAM_ID && ix.programId !== TOKEN_2022_PROGRAM_ID) return [];
        const data = bs58.decode(ix.data);
        if (data[0] !== 0 && data[0] !== 20) return [];
        return [{ ix, data, mint: keys[ix.accounts[0]!]! }];
      });
      if (inits.length === 0) continue;
      const d = decoder().decodeTransaction(f.tx, f)!;
      for (const { ix, data, mint } of inits) {
        let mintAuthority: string | null = bs58.encode(data.subarray(2, 34));
        let freezeAuthority = data[34] === 1 ? bs58.encode(data.subarray(35, 67)) : null;
        // setAuthority (6) on the mint after it: type 0 MintTokens, 1 FreezeAccount; COption<Pubkey> at 2
        for (const later of createTxView(f.tx).ixs) {
          const b = bs58.decode(later.data);
          if (later.programId !== ix.programId || b[0] !== 6 || keys[later.accounts[0]!] !== mint) continue;
          const next = b[2] === 1 ? bs58.encode(b.subarray(3, 35)) : null;
          if (b[1] === 0) mintAuthority = next;
          else if (b[1] === 1) freezeAuthority = next;
        }
        const t = d.tokens.find((x) => x.mint === mint);
        expect(t, `${f.file} ${ix.path}`).toBeDefined();
        expect(t, `${f.file} ${ix.path}`).toMatchObject({
          decimals: data[1],
          mintAuthority,
          freezeAuthority,
          program: ix.programId === TOKEN_2022_PROGRAM_ID ? "token-2022" : "spl-token",
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

/** One recorded transaction, read from its file inside the test. */
function recorded(file: string, txIndex = 0) {
  return readFixtureFile(fixturePath(...file.split("/")))[txIndex]!;
}

/**
 * pump.fun's create: initializeMint2 (3.2), ATA creations with their initializeAccount3 (3.4, 3.4.4 and 4, 4.4), a
 * mintTo (3.6), setAuthority(MintTokens, None) on the mint (3.7), then a plain transfer (5.1) between the two ATAs.
 */
const PUMP_CREATE = "pumpfun/transactions/pumpfun_create_0.json";
/** Orca's openPositionWithTokenExtensions: a Token-2022 position mint initialised (1.5), minted, its authority dropped. */
const ORCA_T22_MINT =
  "orca-whirlpool/blocks-localnet/tokenExtensionsBasedPositionNft__openPositionWithTokenExtensions.json";

describe("token rows: balances over instructions, authorities, programs (real transactions, one field edited)", () => {
  test("where the balances and an account's creation disagree, the balances' mint and owner are stored", () => {
    const f = recorded(PUMP_CREATE);
    const keys = accountKeys(f.tx);
    const d = decoder().decodeTransaction(f.tx, f)!;
    const plain = d.transfers.find((t) => t.instructionPath === "5.1")!;
    expect(plain).toMatchObject({ kind: "transfer", mint: "5dNYcCZXEGfGgbdUdq7MMR7KLsNJLLLgL83wLH8Fpump" });
    // the balances (the chain's record after the transaction) name another mint for every account of this one, and
    // another owner for the transfer's destination, than the ATA creations and initializeAccount3 gave
    const edited = structuredClone(f.tx);
    const otherMint = keys.find((k) => k !== plain.mint && k.length >= 43)!;
    const otherOwner = plain.sourceOwner!;
    expect(otherOwner).not.toBe(plain.destinationOwner);
    const dst = keys.indexOf(plain.destination!);
    for (const b of [...edited.meta!.preTokenBalances!, ...edited.meta!.postTokenBalances!]) {
      if (b.mint === plain.mint) b.mint = otherMint;
      if (b.accountIndex === dst) b.owner = otherOwner;
    }
    const e = decoder().decodeTransaction(edited, f)!;
    const t = e.transfers.find((x) => x.instructionPath === "5.1")!;
    expect(t).toEqual({ ...plain, mint: otherMint, destinationOwner: otherOwner });
    // a mintTo names its mint itself: the instruction's, whatever the balances say
    expect(e.transfers.find((x) => x.instructionPath === "3.6")!.mint).toBe(plain.mint);
  });

  test("a mint's freeze authority set by setAuthority(FreezeAccount) is its freeze authority; the mint authority stays", () => {
    const f = recorded(PUMP_CREATE);
    const keys = accountKeys(f.tx);
    const init = bs58.decode(instructionAt(f.tx, "3.2").data);
    const mintAuthority = bs58.encode(init.subarray(2, 34));
    expect(init[34]).toBe(0); // initialised without a freeze authority
    const d = decoder().decodeTransaction(f.tx, f)!;
    expect(d.tokens).toEqual([expect.objectContaining({ mintAuthority: null, freezeAuthority: null })]);
    // 3.7 is setAuthority(MintTokens, None); as setAuthority(FreezeAccount, Some(fee payer)):
    const edited = structuredClone(f.tx);
    const payer = bs58.decode(keys[0]!);
    instructionAt(edited, "3.7").data = bs58.encode(Uint8Array.from([6, 1, 1, ...payer]));
    const e = decoder().decodeTransaction(edited, f)!;
    expect(e.tokens).toEqual([
      expect.objectContaining({ mint: d.tokens[0]!.mint, mintAuthority, freezeAuthority: keys[0], decimals: 6 }),
    ]);
    expect(e.transfers).toEqual(d.transfers);
  });

  test("without the balances, a Token-2022 mint the transaction initialises is a Token-2022 token with its layout's fields", () => {
    const f = recorded(ORCA_T22_MINT, 1);
    const d = decoder().decodeTransaction(f.tx, f)!;
    expect(d.tokens).toHaveLength(1);
    const s = decoder().decodeTransaction(stripped(f.tx), f)!;
    // 1.5 initializeMint2: decimals 0, a freeze authority; 1.10 setAuthority(MintTokens, None)
    expect(s.tokens).toEqual([
      {
        mint: d.tokens[0]!.mint,
        program: "token-2022",
        decimals: 0,
        slot: f.slot,
        mintAuthority: null,
        freezeAuthority: d.tokens[0]!.freezeAuthority,
        initialized: true,
      },
    ]);
    expect(d.tokens[0]!.freezeAuthority).toEqual(expect.any(String));
  });

  test("an initializeMint2 without its accounts adds no token; the mint's setAuthority still names it, under its program", () => {
    const f = recorded(ORCA_T22_MINT, 1);
    const d = decoder().decodeTransaction(f.tx, f)!;
    const edited = stripped(f.tx);
    instructionAt(edited, "1.5").accounts = [];
    const s = decoder().decodeTransaction(edited, f)!;
    // known from 1.10 alone: no decimals, no freeze authority, not initialised here as far as the decoder can tell
    expect(s.tokens).toEqual([
      { mint: d.tokens[0]!.mint, program: "token-2022", decimals: null, slot: f.slot, mintAuthority: null },
    ]);
  });
});
