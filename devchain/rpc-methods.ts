/**
 * JSON-RPC method handlers: params in, raw result JSON (or Buffer) or a validator error out.
 * @dev Error codes and messages follow Agave (rpc/src/rpc.rs, custom_error.rs); see
 * ../shared/reference/solana-rpc.md §3 and §5.
 */
import bs58 from "bs58";
import { encodeAccount, TOKEN_2022_PROGRAM, TOKEN_PROGRAM, type AccountStore, type StoredAccount } from "./accounts.js";
import {
  blockHasV0,
  encodeBlock,
  txResult,
  UNSUPPORTED_VERSION,
  type createBlockCache,
  type TxDetails,
  type TxEncoding,
} from "./encode.js";
import type { Faults } from "./faults.js";
import type { Commitment, Ledger } from "./ledger.js";
import type { SyntheticSource } from "./synthetic.js";
import { createTokenIndex, parseFilters, passes, TOKEN_ACCOUNT_SIZE } from "./token-index.js";

/** A JSON-RPC error object. */
export type RpcError = { code: number; message: string; data?: unknown };
/** A handler's answer: `result` as JSON text or as its bytes (segments sent one after another), or an error. */
export type Outcome = { result: string | Buffer[] } | { error: RpcError };

/** What the handlers read. */
export type RpcContext = {
  ledger: Ledger;
  synthetic: SyntheticSource;
  cache: ReturnType<typeof createBlockCache>;
  accounts: AccountStore;
  faults: Faults;
  /** methods this node does not serve */
  without?: ReadonlySet<string>;
  genesisHash: string;
  /** the node's identity pubkey (getIdentity) */
  identity: string;
  version: { "solana-core": string; "feature-set": number };
};

const API_VERSION = "2.2.14";
const MAX_RANGE = 500_000;
const STATUS_CACHE_SLOTS = 300;

class ParamError extends Error {}
const invalid = (msg: string): never => {
  throw new ParamError(msg);
};
const ok = (v: unknown): Outcome => ({ result: JSON.stringify(v) });
const fail = (code: number, message: string, data?: unknown): Outcome => ({
  error: data === undefined ? { code, message } : { code, message, data },
});

type Cfg = Record<string, unknown>;
const cfgAt = (params: unknown[], i: number): Cfg => {
  const v = params[i];
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Cfg) : {};
};

function commitmentOf(cfg: Cfg): Commitment {
  const c = cfg.commitment;
  if (c === undefined || c === null) return "finalized";
  switch (c) {
    case "processed":
    case "recent":
      return "processed";
    case "confirmed":
    case "single":
    case "singleGossip":
      return "confirmed";
    case "finalized":
    case "max":
    case "root":
      return "finalized";
    default:
      return invalid(
        `Invalid params: unknown variant \`${String(c)}\`, expected one of \`processed\`, \`confirmed\`, \`finalized\`.`,
      );
  }
}

function u64(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
    return invalid(`Invalid params: invalid type: ${JSON.stringify(v)}, expected u64 (${what}).`);
  return v;
}

function pubkey(v: unknown): string {
  if (typeof v !== "string") return invalid("Invalid params: expected a base58 pubkey string.");
  let ok32 = false;
  try {
    ok32 = bs58.decode(v).length === 32;
  } catch {
    ok32 = false;
  }
  return ok32 ? v : invalid("Invalid param: Invalid");
}

const BELOW_CONFIRMED = "Method does not support commitment below `confirmed`";

/** Whether token program account data is a token account (not a mint): 165 bytes, or longer with AccountType 2. */
const isTokenAccount = (d: Buffer): boolean =>
  d.length === TOKEN_ACCOUNT_SIZE || (d.length > TOKEN_ACCOUNT_SIZE && d[TOKEN_ACCOUNT_SIZE] === 2);

/** Creates the method table over a chain context. */
export function createRpcMethods(ctx: RpcContext) {
  const { ledger } = ctx;
  const st = ledger.state;
  const tokenIndex = createTokenIndex(ledger, ctx.accounts);

  /** The accounts `program` owns as of `slot`: token accounts from the index, any other account from the store. */
  const programAccounts = (program: string, slot: number): { pubkey: string; account: StoredAccount }[] => {
    const isToken = program === TOKEN_PROGRAM || program === TOKEN_2022_PROGRAM;
    const out = isToken ? tokenIndex.accountsOf(program, slot) : [];
    for (const [pubkey, newest] of ctx.accounts.entries()) {
      if (newest.owner !== program) continue;
      // as of the slot asked (a derived mint's supply, a LiteSVM account's state)
      const account = ctx.accounts.get(pubkey, slot);
      if (!account || account.owner !== program) continue;
      // token accounts come from the index, as of the slot asked; the store holds mints and everything else
      if (isToken && isTokenAccount(account.data)) continue;
      out.push({ pubkey, account });
    }
    return out;
  };

  /** `[{pubkey, account}]` of the accounts that pass the filters, encoded, or an error. */
  const keyedAccounts = (
    list: { pubkey: string; account: StoredAccount }[],
    cfg: Cfg,
    defaultEncoding: string,
  ): string | { code: number; message: string } => {
    const filters = parseFilters(cfg.filters);
    if (typeof filters === "string") return { code: -32602, message: filters };
    const slice = sliceOf(cfg.dataSlice);
    if (typeof slice === "string") return { code: -32602, message: slice };
    const out: string[] = [];
    for (const { pubkey, account } of list) {
      if (!passes(account.data, filters)) continue;
      const enc = encodeAccount(account, String(cfg.encoding ?? defaultEncoding), slice, mintDecimals);
      if (typeof enc !== "string") return enc;
      out.push(`{"account":${enc},"pubkey":"${pubkey}"}`);
    }
    return `[${out.join(",")}]`;
  };
  const context = (slot: number): string => `{"slot":${slot},"apiVersion":"${API_VERSION}"}`;
  const withContext = (slot: number, valueJson: string): Outcome => ({
    result: `{"context":${context(slot)},"value":${valueJson}}`,
  });

  const minContext = (cfg: Cfg, slot: number): Outcome | undefined => {
    const m = cfg.minContextSlot;
    if (typeof m === "number" && m > slot)
      return fail(-32016, "Minimum context slot has not been reached", { contextSlot: slot });
    return undefined;
  };

  /** Availability check shared by getBlock and getBlockTime. */
  const blockOrError = (slot: number, c: Commitment) => {
    if (ledger.slots.length === 0 || slot < st.first) {
      return {
        error: {
          code: -32001,
          message: `Block ${slot} cleaned up, does not exist on node. First available block: ${st.first}`,
        },
      };
    }
    const block = slot <= ledger.slotAt(c) ? ledger.blocks.get(slot) : undefined;
    if (!block) {
      if (ledger.isSkipped(slot))
        return {
          error: {
            code: -32007,
            message: `Slot ${slot} was skipped, or missing due to ledger jump to recent snapshot`,
          },
        };
      return { error: { code: -32004, message: `Block not available for slot ${slot}` } };
    }
    if (ctx.faults.notAvailable(slot, st.processed))
      return { error: { code: -32004, message: `Block not available for slot ${slot}` } };
    return { block };
  };

  const encodingOf = (v: unknown, allowed: readonly string[]): TxEncoding => {
    const e = v ?? "json";
    if (typeof e !== "string" || !allowed.includes(e))
      return invalid(
        `Invalid params: unknown variant \`${String(e)}\`, expected one of ${allowed.map((a) => `\`${a}\``).join(", ")}.`,
      );
    return e as TxEncoding;
  };

  const methods: Record<string, (p: unknown[]) => Outcome> = {
    getSlot(p) {
      const cfg = cfgAt(p, 0);
      const slot = ledger.slotAt(commitmentOf(cfg));
      return minContext(cfg, slot) ?? ok(slot);
    },
    getBlockHeight(p) {
      const cfg = cfgAt(p, 0);
      const slot = ledger.slotAt(commitmentOf(cfg));
      return minContext(cfg, slot) ?? ok(ledger.blockAtOrBelow(slot)?.blockHeight ?? 0);
    },
    getBlock(p) {
      const slot = u64(p[0], "slot");
      const cfg: Cfg = typeof p[1] === "string" ? { encoding: p[1] } : cfgAt(p, 1);
      const c = commitmentOf(cfg);
      if (c === "processed") return fail(-32602, BELOW_CONFIRMED);
      const encoding = encodingOf(cfg.encoding, ["json", "jsonParsed", "base64", "base58"]);
      const details = (cfg.transactionDetails ?? "full") as TxDetails;
      if (!["full", "accounts", "signatures", "none"].includes(details))
        return invalid(`Invalid params: unknown variant \`${String(details)}\`.`);
      const rewards = cfg.rewards === undefined || cfg.rewards === null ? true : cfg.rewards === true;
      const mv = cfg.maxSupportedTransactionVersion;
      const withVersion = typeof mv === "number";
      const found = blockOrError(slot, c);
      if (found.error) return found;
      const block = found.block!;
      const inflate = ctx.faults.rule("getBlock", p, "inflate");
      if (
        inflate?.kind === "inflate" &&
        (block.synth?.count ?? 0) + block.txs.length < inflate.txs &&
        ctx.synthetic.templates.length > 0
      ) {
        // A huge block: its synthetic window grows (signatures derive from slot and index, so they stay unique).
        block.synth = { start: block.synth?.start ?? 0, count: inflate.txs - block.txs.length };
      }
      if (!withVersion && (details === "full" || details === "accounts") && blockHasV0(block, ctx.synthetic.hasV0)) {
        return { error: UNSUPPORTED_VERSION };
      }
      const opts = { encoding, details, rewards, withVersion };
      // A parent a scripted fault calls skipped for good is no block: the child names the block before it instead.
      if (ctx.faults.spec.rules.length > 0 && ctx.faults.skippedByRule(block.parentSlot)) {
        let parent = ledger.blocks.get(block.parentSlot);
        while (parent && ctx.faults.skippedByRule(parent.parentSlot)) parent = ledger.blocks.get(parent.parentSlot);
        if (parent)
          return {
            result: encodeBlock(
              ledger,
              { ...block, parentSlot: parent.parentSlot, previousBlockhash: parent.previousBlockhash },
              opts,
            ),
          };
      }
      return { result: ctx.cache.get(ledger, block, opts) };
    },
    getBlockTime(p) {
      const slot = u64(p[0], "slot");
      const found = blockOrError(slot, "confirmed");
      return found.error ? found : ok(found.block!.blockTime);
    },
    getBlocks(p) {
      const start = u64(p[0], "start_slot");
      let end: number | undefined;
      let cfg: Cfg;
      if (typeof p[1] === "number") {
        end = u64(p[1], "end_slot");
        cfg = cfgAt(p, 2);
      } else cfg = cfgAt(p, 1);
      const c = commitmentOf(cfg);
      if (c === "processed") return fail(-32602, BELOW_CONFIRMED);
      const top = ledger.slotAt(c);
      const e = Math.min(end ?? top, top);
      if (end !== undefined && end - start > MAX_RANGE) return fail(-32602, `Slot range too large; max ${MAX_RANGE}`);
      if (e < start) return ok([]);
      return minContext(cfg, top) ?? ok(withoutOmitted(ledger.range(start, e)));
    },
    getBlocksWithLimit(p) {
      const start = u64(p[0], "start_slot");
      const limit = u64(p[1], "limit");
      const cfg = cfgAt(p, 2);
      const c = commitmentOf(cfg);
      if (c === "processed") return fail(-32602, BELOW_CONFIRMED);
      if (limit > MAX_RANGE) return fail(-32602, `Limit too large; max ${MAX_RANGE}`);
      const top = ledger.slotAt(c);
      return minContext(cfg, top) ?? ok(limit === 0 ? [] : withoutOmitted(ledger.range(start, top, limit)));
    },
    getTransaction(p) {
      if (typeof p[0] !== "string") return invalid("Invalid params: expected a signature string.");
      const cfg: Cfg = typeof p[1] === "string" ? { encoding: p[1] } : cfgAt(p, 1);
      const c = commitmentOf(cfg);
      if (c === "processed") return fail(-32602, BELOW_CONFIRMED);
      const encoding = encodingOf(cfg.encoding, ["json", "jsonParsed", "base64", "base58"]);
      const withVersion = typeof cfg.maxSupportedTransactionVersion === "number";
      const loc = ledger.find(p[0]);
      if (!loc || loc.block.slot > ledger.slotAt(c)) return ok(null);
      if (loc.view.rec.version === 0 && !withVersion) return { error: UNSUPPORTED_VERSION };
      return { result: [txResult(loc.block, loc.view, encoding, withVersion)] };
    },
    getSignaturesForAddress(p) {
      const address = pubkey(p[0]);
      const cfg = cfgAt(p, 1);
      const c = commitmentOf(cfg);
      if (c === "processed") return fail(-32602, BELOW_CONFIRMED);
      const limit = cfg.limit === undefined || cfg.limit === null ? 1000 : u64(cfg.limit, "limit");
      if (limit === 0 || limit > 1000) return fail(-32602, "Invalid limit; max 1000");
      const top = ledger.slotAt(c);
      const mc = minContext(cfg, top);
      if (mc) return mc;
      let before: { slot: number; idx: number } | null = null;
      if (typeof cfg.before === "string") {
        const loc = ledger.find(cfg.before);
        if (!loc) return ok([]);
        before = { slot: loc.block.slot, idx: loc.idx };
      }
      let until: { slot: number; idx: number } | null = null;
      if (typeof cfg.until === "string") {
        const loc = ledger.find(cfg.until);
        if (loc) until = { slot: loc.block.slot, idx: loc.idx };
      }
      const items: string[] = [];
      for (const { block, idx } of ledger.mentions(address, top, before, until)) {
        const v = ledger.txAt(block, idx);
        const status = block.slot <= st.finalized ? "finalized" : "confirmed";
        items.push(
          `{"signature":"${v.signatures[0]}","slot":${block.slot},"err":${JSON.stringify(v.rec.raw.meta?.err ?? null)},"memo":null,"blockTime":${block.blockTime === null ? "null" : block.blockTime},"confirmationStatus":"${status}"}`,
        );
        if (items.length >= limit) break;
      }
      return { result: `[${items.join(",")}]` };
    },
    getSignatureStatuses(p) {
      const sigs = p[0];
      if (!Array.isArray(sigs)) return invalid("Invalid params: expected an array of signatures.");
      if (sigs.length > 256) return fail(-32602, "Too many inputs provided; max 256");
      const history = cfgAt(p, 1).searchTransactionHistory === true;
      const values = sigs.map((s) => {
        const loc = typeof s === "string" ? ledger.find(s) : undefined;
        if (!loc || loc.block.slot > st.processed) return null;
        const slot = loc.block.slot;
        if (!history && slot < st.processed - STATUS_CACHE_SLOTS) return null;
        const err = loc.view.rec.raw.meta?.err ?? null;
        const finalized = slot <= st.finalized;
        return {
          slot,
          confirmations: finalized ? null : ledger.range(slot + 1, st.processed).length,
          err,
          status: err === null ? { Ok: null } : { Err: err },
          confirmationStatus: finalized ? "finalized" : slot <= st.confirmed ? "confirmed" : "processed",
        };
      });
      return withContext(st.processed, JSON.stringify(values));
    },
    getAccountInfo(p) {
      const key = pubkey(p[0]);
      const cfg = cfgAt(p, 1);
      const slot = ledger.slotAt(commitmentOf(cfg));
      const mc = minContext(cfg, slot);
      if (mc) return mc;
      const a = ctx.accounts.get(key, slot);
      if (!a) return withContext(slot, "null");
      const enc = encodeAccount(a, String(cfg.encoding ?? "binary"), cfg.dataSlice as never, mintDecimals);
      return typeof enc === "string" ? withContext(slot, enc) : { error: enc };
    },
    getMultipleAccounts(p) {
      const keys = p[0];
      if (!Array.isArray(keys)) return invalid("Invalid params: expected an array of pubkeys.");
      if (keys.length > 100) return fail(-32602, "Too many inputs provided; max 100");
      const cfg = cfgAt(p, 1);
      const slot = ledger.slotAt(commitmentOf(cfg));
      const mc = minContext(cfg, slot);
      if (mc) return mc;
      const out: string[] = [];
      for (const k of keys) {
        const a = ctx.accounts.get(pubkey(k), slot);
        if (!a) {
          out.push("null");
          continue;
        }
        const enc = encodeAccount(a, String(cfg.encoding ?? "base64"), cfg.dataSlice as never, mintDecimals);
        if (typeof enc !== "string") return { error: enc };
        out.push(enc);
      }
      return withContext(slot, `[${out.join(",")}]`);
    },
    getProgramAccounts(p) {
      const program = pubkey(p[0]);
      const cfg = cfgAt(p, 1);
      const slot = ledger.slotAt(commitmentOf(cfg));
      const mc = minContext(cfg, slot);
      if (mc) return mc;
      // Agave's default encoding is the legacy `binary` (a bare base58 string); web3.js always asks for base64
      const list = keyedAccounts(programAccounts(program, slot), cfg, "binary");
      if (typeof list !== "string") return { error: list };
      return cfg.withContext === true ? withContext(slot, list) : { result: list };
    },
    getTokenAccountsByOwner(p) {
      const owner = pubkey(p[0]);
      const by = cfgAt(p, 1);
      const cfg = cfgAt(p, 2);
      const slot = ledger.slotAt(commitmentOf(cfg));
      const mc = minContext(cfg, slot);
      if (mc) return mc;
      let programs: string[];
      let mint: string | undefined;
      if (typeof by.mint === "string") {
        mint = pubkey(by.mint);
        const m = ctx.accounts.get(mint);
        if (!m || (m.owner !== TOKEN_PROGRAM && m.owner !== TOKEN_2022_PROGRAM))
          return fail(-32602, "Invalid param: could not find mint");
        programs = [m.owner];
      } else if (typeof by.programId === "string") {
        const id = pubkey(by.programId);
        if (id !== TOKEN_PROGRAM && id !== TOKEN_2022_PROGRAM)
          return fail(-32602, "Invalid param: unrecognized Token program id");
        programs = [id];
      } else return invalid("Invalid params: expected a mint or a programId filter.");
      const ownerBytes = Buffer.from(bs58.decode(owner));
      const list = programs
        .flatMap((pr) => tokenIndex.accountsOf(pr, slot))
        .filter(
          ({ account: a }) =>
            a.data.subarray(32, 64).equals(ownerBytes) &&
            (mint === undefined || bs58.encode(a.data.subarray(0, 32)) === mint),
        );
      const out = keyedAccounts(list, cfg, "binary");
      return typeof out === "string" ? withContext(slot, out) : { error: out };
    },
    getBalance(p) {
      const key = pubkey(p[0]);
      const slot = ledger.slotAt(commitmentOf(cfgAt(p, 1)));
      return withContext(slot, String(ctx.accounts.get(key, slot)?.lamports ?? 0));
    },
    getTokenSupply(p) {
      const key = pubkey(p[0]);
      const slot = ledger.slotAt(commitmentOf(cfgAt(p, 1)));
      const a = ctx.accounts.get(key, slot);
      if (!a) return fail(-32602, "Invalid param: could not find account");
      if (a.data.length < 82 || (a.data.length > 82 && a.data[165] !== 1))
        return fail(-32602, "Invalid param: not a Token mint");
      const supply = a.data.readBigUInt64LE(36);
      const decimals = a.data[44]!;
      const s = supply.toString().padStart(decimals + 1, "0");
      const ui = decimals ? `${s.slice(0, -decimals)}.${s.slice(-decimals)}`.replace(/\.?0+$/, "") : s;
      return withContext(
        slot,
        JSON.stringify({ amount: supply.toString(), decimals, uiAmount: Number(ui), uiAmountString: ui }),
      );
    },
    getLatestBlockhash(p) {
      const cfg = cfgAt(p, 0);
      const slot = ledger.slotAt(commitmentOf(cfg));
      const b = ledger.blockAtOrBelow(slot);
      const mc = minContext(cfg, slot);
      if (mc) return mc;
      return withContext(
        slot,
        JSON.stringify({
          blockhash: b?.blockhash ?? ctx.genesisHash,
          lastValidBlockHeight: (b?.blockHeight ?? 0) + 150,
        }),
      );
    },
    isBlockhashValid(p) {
      const cfg = cfgAt(p, 1);
      const slot = ledger.slotAt(commitmentOf(cfg));
      const tip = ledger.blockAtOrBelow(slot)?.blockHeight ?? 0;
      let valid = false;
      for (let i = ledger.slots.length - 1; i >= 0 && i >= ledger.slots.length - 300; i--) {
        const b = ledger.blocks.get(ledger.slots[i]!)!;
        if (b.blockhash === p[0]) valid = (b.blockHeight ?? 0) + 150 >= tip;
      }
      return withContext(slot, String(valid));
    },
    getEpochInfo(p) {
      const slot = ledger.slotAt(commitmentOf(cfgAt(p, 0)));
      return ok({
        absoluteSlot: slot,
        blockHeight: ledger.blockAtOrBelow(slot)?.blockHeight ?? 0,
        epoch: Math.floor(slot / 432_000),
        slotIndex: slot % 432_000,
        slotsInEpoch: 432_000,
        transactionCount: null,
      });
    },
    getGenesisHash: () => ok(ctx.genesisHash),
    getVersion: () => ok(ctx.version),
    getHealth: () => ok("ok"),
    getIdentity: () => ok({ identity: ctx.identity }),
    getFirstAvailableBlock: () => ok(st.first),
    minimumLedgerSlot: () => ok(st.first),
  };

  /** The omit fault: a node that leaves a produced slot out of its block lists (getBlock still serves it). */
  function withoutOmitted(slots: number[]): number[] {
    return ctx.faults.spec.rules.length === 0 ? slots : slots.filter((s) => !ctx.faults.omitted(s));
  }

  function sliceOf(v: unknown): { offset: number; length: number } | undefined | string {
    if (v === undefined || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (
      typeof o.offset !== "number" ||
      typeof o.length !== "number" ||
      !Number.isInteger(o.offset) ||
      !Number.isInteger(o.length) ||
      o.offset < 0 ||
      o.length < 0
    )
      return "Invalid params: dataSlice expects {offset: usize, length: usize}";
    return { offset: o.offset, length: o.length };
  }

  function mintDecimals(mint: string): number | undefined {
    const m = ctx.accounts.get(mint);
    return m && m.data.length >= 82 ? m.data[44] : undefined;
  }

  return {
    /** Runs one method; unknown methods give -32601, bad params -32602. */
    call(method: string, params: unknown): Outcome {
      const fn = Object.hasOwn(methods, method) && !ctx.without?.has(method) ? methods[method] : undefined;
      if (!fn) return fail(-32601, "Method not found");
      if (params !== undefined && params !== null && !Array.isArray(params))
        return fail(-32602, "Invalid params: expected an array.");
      try {
        return fn((params as unknown[] | undefined) ?? []);
      } catch (err) {
        if (err instanceof ParamError) return fail(-32602, err.message);
        return fail(-32603, `Internal error: ${(err as Error).message}`);
      }
    },
  };
}
