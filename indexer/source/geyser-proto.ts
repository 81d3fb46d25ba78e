/**
 * A Geyser `SubscribeUpdate` read straight from its protobuf bytes (core/proto/geyser.proto and
 * solana-storage.proto), only the fields slotline reads (core/geyser.ts's shapes), in the shape @grpc/proto-loader
 * gives them with core/geyser's options: u64 as decimal strings, bytes as Buffers (views of the message, not
 * copies), `update_oneof` naming the kind, proto3 `optional` fields present only when sent (with their `_name`).
 * @dev proto-loader's generic decode (protobufjs: decode, then toObject with every long turned into a string through
 * Long) cost about as much CPU as the ingest's whole budget at mainnet's rate: a block update of 420 transactions took
 * 240 ms. Fields the readers do not name are skipped by wire type; a message repeated or split across fields is read
 * as protobuf says (the last scalar wins, repeated fields append, packed or not).
 */
import type {
  GeyserBlock,
  GeyserInstruction,
  GeyserTokenBalance,
  GeyserTransactionInfo,
  GeyserUpdate,
} from "../../core/geyser.js";

/** Thrown on bytes that are not a well-formed message. */
export class ProtobufError extends Error {}

type Reader = { buf: Buffer; pos: number };
type Meta = GeyserTransactionInfo["meta"];
type Message = GeyserTransactionInfo["transaction"]["message"];

const TWO_32 = 2 ** 32;
/** An absent bytes field, as proto-loader gives it. */
const EMPTY: Buffer = Buffer.alloc(0);

function varint(r: Reader): number {
  // Up to 2^53 exactly; the callers that can see more use u64().
  const { buf } = r;
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= buf.length) throw new ProtobufError("varint past the end");
    const b = buf[r.pos++]!;
    x += (b & 0x7f) * mul;
    if (b < 0x80) return x;
    mul *= 128;
  }
  throw new ProtobufError("varint longer than 10 bytes");
}

/** A uint64 varint as its decimal digits, exact past 2^53. */
function u64(r: Reader): string {
  const { buf } = r;
  let lo = 0;
  let hi = 0;
  let shift = 0;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= buf.length) throw new ProtobufError("varint past the end");
    const b = buf[r.pos++]!;
    if (shift < 28) lo |= (b & 0x7f) << shift;
    else if (shift === 28) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >>> 4;
    } else hi |= (b & 0x7f) << (shift - 32);
    if (b < 0x80) {
      lo >>>= 0;
      hi >>>= 0;
      return hi < 0x200000 ? String(hi * TWO_32 + lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
    }
    shift += 7;
  }
  throw new ProtobufError("varint longer than 10 bytes");
}

/** An int64 varint (two's complement in 10 bytes when negative) as its decimal digits. */
function i64(r: Reader): string {
  const s = u64(r);
  const v = BigInt(s);
  return v >= 1n << 63n ? (v - (1n << 64n)).toString() : s;
}

/** The end of a length-delimited field starting at r.pos. */
function end(r: Reader): number {
  const n = varint(r);
  const e = r.pos + n;
  if (e > r.buf.length) throw new ProtobufError("length past the end");
  return e;
}

function bytes(r: Reader): Buffer {
  const e = end(r);
  const b = r.buf.subarray(r.pos, e);
  r.pos = e;
  return b;
}

function str(r: Reader): string {
  const e = end(r);
  const s = r.buf.toString("utf8", r.pos, e);
  r.pos = e;
  return s;
}

function skip(r: Reader, wire: number): void {
  if (wire === 0) varint(r);
  else if (wire === 1) r.pos += 8;
  else if (wire === 2) r.pos = end(r);
  else if (wire === 5) r.pos += 4;
  else throw new ProtobufError(`wire type ${wire} not readable`);
  if (r.pos > r.buf.length) throw new ProtobufError("field past the end");
}

/** A repeated uint64, packed (wire type 2) or one value per field (0). */
function u64s(r: Reader, wire: number, into: string[]): void {
  if (wire === 0) {
    into.push(u64(r));
    return;
  }
  const e = end(r);
  while (r.pos < e) into.push(u64(r));
  if (r.pos !== e) throw new ProtobufError("packed field overran its length");
}

/** Reads fields until `e`, handing each (number, wire type) to `field`, which reads or skips its value. */
function fields(r: Reader, e: number, field: (no: number, wire: number) => void): void {
  while (r.pos < e) {
    const tag = varint(r);
    field(tag >>> 3, tag & 7);
  }
  if (r.pos !== e) throw new ProtobufError("message overran its length");
}

function instruction(r: Reader, inner: boolean): GeyserInstruction {
  const ix: GeyserInstruction = { program_id_index: 0, accounts: EMPTY, data: EMPTY };
  fields(r, end(r), (no, wire) => {
    if (no === 1 && wire === 0) ix.program_id_index = varint(r);
    else if (no === 2 && wire === 2) ix.accounts = bytes(r);
    else if (no === 3 && wire === 2) ix.data = bytes(r);
    else if (inner && no === 4 && wire === 0) ix.stack_height = varint(r);
    else skip(r, wire);
  });
  return ix;
}

function message(r: Reader): Message {
  const m: Message = {
    header: { num_required_signatures: 0, num_readonly_signed_accounts: 0, num_readonly_unsigned_accounts: 0 },
    account_keys: [],
    recent_blockhash: EMPTY,
    instructions: [],
    versioned: false,
    address_table_lookups: [],
  };
  fields(r, end(r), (no, wire) => {
    if (no === 1 && wire === 2)
      fields(r, end(r), (h, w) => {
        if (h === 1 && w === 0) m.header.num_required_signatures = varint(r);
        else if (h === 2 && w === 0) m.header.num_readonly_signed_accounts = varint(r);
        else if (h === 3 && w === 0) m.header.num_readonly_unsigned_accounts = varint(r);
        else skip(r, w);
      });
    else if (no === 2 && wire === 2) m.account_keys.push(bytes(r));
    else if (no === 3 && wire === 2) m.recent_blockhash = bytes(r);
    else if (no === 4 && wire === 2) m.instructions.push(instruction(r, false));
    else if (no === 5 && wire === 0) m.versioned = varint(r) !== 0;
    else if (no === 6 && wire === 2) {
      const l = { account_key: EMPTY, writable_indexes: EMPTY, readonly_indexes: EMPTY };
      fields(r, end(r), (f, w) => {
        if (f === 1 && w === 2) l.account_key = bytes(r);
        else if (f === 2 && w === 2) l.writable_indexes = bytes(r);
        else if (f === 3 && w === 2) l.readonly_indexes = bytes(r);
        else skip(r, w);
      });
      m.address_table_lookups.push(l);
    } else skip(r, wire);
  });
  return m;
}

function tokenBalance(r: Reader): GeyserTokenBalance {
  const t: GeyserTokenBalance = {
    account_index: 0,
    mint: "",
    owner: "",
    program_id: "",
    ui_token_amount: { ui_amount: 0, decimals: 0, amount: "", ui_amount_string: "" },
  };
  fields(r, end(r), (no, wire) => {
    if (no === 1 && wire === 0) t.account_index = varint(r);
    else if (no === 2 && wire === 2) t.mint = str(r);
    else if (no === 3 && wire === 2) {
      const a = t.ui_token_amount;
      fields(r, end(r), (f, w) => {
        if (f === 1 && w === 1) {
          if (r.pos + 8 > r.buf.length) throw new ProtobufError("double past the end");
          a.ui_amount = r.buf.readDoubleLE(r.pos);
          r.pos += 8;
        } else if (f === 2 && w === 0) a.decimals = varint(r);
        else if (f === 3 && w === 2) a.amount = str(r);
        else if (f === 4 && w === 2) a.ui_amount_string = str(r);
        else skip(r, w);
      });
    } else if (no === 4 && wire === 2) t.owner = str(r);
    else if (no === 5 && wire === 2) t.program_id = str(r);
    else skip(r, wire);
  });
  return t;
}

function meta(r: Reader): Meta {
  const m: Meta = {
    err: null,
    fee: "0",
    pre_balances: [],
    post_balances: [],
    inner_instructions: [],
    inner_instructions_none: false,
    log_messages: [],
    log_messages_none: false,
    pre_token_balances: [],
    post_token_balances: [],
    rewards: [],
    loaded_writable_addresses: [],
    loaded_readonly_addresses: [],
    return_data: null,
    return_data_none: false,
  };
  fields(r, end(r), (no, wire) => {
    if (no === 1 && wire === 2) {
      const err = { err: EMPTY };
      fields(r, end(r), (f, w) => (f === 1 && w === 2 ? (err.err = bytes(r)) : skip(r, w)));
      m.err = err;
    } else if (no === 2 && wire === 0) m.fee = u64(r);
    else if (no === 3 && (wire === 2 || wire === 0)) u64s(r, wire, m.pre_balances as string[]);
    else if (no === 4 && (wire === 2 || wire === 0)) u64s(r, wire, m.post_balances as string[]);
    else if (no === 5 && wire === 2) {
      const g = { index: 0, instructions: [] as GeyserInstruction[] };
      fields(r, end(r), (f, w) => {
        if (f === 1 && w === 0) g.index = varint(r);
        else if (f === 2 && w === 2) g.instructions.push(instruction(r, true));
        else skip(r, w);
      });
      m.inner_instructions.push(g);
    } else if (no === 10 && wire === 0) m.inner_instructions_none = varint(r) !== 0;
    else if (no === 6 && wire === 2) m.log_messages.push(str(r));
    else if (no === 11 && wire === 0) m.log_messages_none = varint(r) !== 0;
    else if (no === 7 && wire === 2) m.pre_token_balances.push(tokenBalance(r));
    else if (no === 8 && wire === 2) m.post_token_balances.push(tokenBalance(r));
    else if (no === 12 && wire === 2) m.loaded_writable_addresses.push(bytes(r));
    else if (no === 13 && wire === 2) m.loaded_readonly_addresses.push(bytes(r));
    else if (no === 14 && wire === 2) {
      const d = { program_id: EMPTY, data: EMPTY };
      fields(r, end(r), (f, w) => {
        if (f === 1 && w === 2) d.program_id = bytes(r);
        else if (f === 2 && w === 2) d.data = bytes(r);
        else skip(r, w);
      });
      m.return_data = d;
    } else if (no === 15 && wire === 0) m.return_data_none = varint(r) !== 0;
    else if (no === 16 && wire === 0) {
      m.compute_units_consumed = u64(r);
      m._compute_units_consumed = "compute_units_consumed";
    } else skip(r, wire);
  });
  return m;
}

/** An absent message field, as proto-loader gives it (null) until read. */
const NO_TRANSACTION = null as unknown as GeyserTransactionInfo["transaction"];
const NO_META = null as unknown as Meta;

function transactionInfo(r: Reader): GeyserTransactionInfo {
  const t: GeyserTransactionInfo = {
    signature: EMPTY,
    is_vote: false,
    index: "0",
    transaction: NO_TRANSACTION,
    meta: NO_META,
  };
  fields(r, end(r), (no, wire) => {
    if (no === 1 && wire === 2) t.signature = bytes(r);
    else if (no === 2 && wire === 0) t.is_vote = varint(r) !== 0;
    else if (no === 3 && wire === 2) {
      const tx = { signatures: [] as Buffer[], message: null as unknown as Message };
      fields(r, end(r), (f, w) => {
        if (f === 1 && w === 2) tx.signatures.push(bytes(r));
        else if (f === 2 && w === 2) tx.message = message(r);
        else skip(r, w);
      });
      t.transaction = tx;
    } else if (no === 4 && wire === 2) t.meta = meta(r);
    else if (no === 5 && wire === 0) t.index = u64(r);
    else skip(r, wire);
  });
  return t;
}

/** A message of one u64 field number 1 (UnixTimestamp as int64, BlockHeight). */
function wrapped(r: Reader, signed: boolean): string {
  let v = "0";
  fields(r, end(r), (f, w) => (f === 1 && w === 0 ? (v = signed ? i64(r) : u64(r)) : skip(r, w)));
  return v;
}

function block(r: Reader): GeyserBlock {
  const b: GeyserBlock = {
    slot: "0",
    blockhash: "",
    block_time: null,
    block_height: null,
    parent_slot: "0",
    parent_blockhash: "",
    executed_transaction_count: "0",
    transactions: [],
  };
  fields(r, end(r), (no, wire) => {
    if (no === 1 && wire === 0) b.slot = u64(r);
    else if (no === 2 && wire === 2) b.blockhash = str(r);
    else if (no === 4 && wire === 2) b.block_time = { timestamp: wrapped(r, true) };
    else if (no === 5 && wire === 2) b.block_height = { block_height: wrapped(r, false) };
    else if (no === 6 && wire === 2) b.transactions.push(transactionInfo(r));
    else if (no === 7 && wire === 0) b.parent_slot = u64(r);
    else if (no === 8 && wire === 2) b.parent_blockhash = str(r);
    else if (no === 9 && wire === 0) b.executed_transaction_count = u64(r);
    else skip(r, wire);
  });
  return b;
}

/**
 * A SubscribeUpdate's filters and its kind, with the block (every field of core/geyser's GeyserBlock) or the slot
 * (`slot`, `parent` when sent, `status`) read; other kinds are named, their content skipped.
 */
export function readGeyserUpdate(buf: Buffer): GeyserUpdate {
  const r: Reader = { buf, pos: 0 };
  const u: GeyserUpdate = { filters: [] };
  fields(r, buf.length, (no, wire) => {
    if (no === 1 && wire === 2) u.filters.push(str(r));
    else if (no === 5 && wire === 2) {
      u.update_oneof = "block";
      u.block = block(r);
    } else if (no === 3 && wire === 2) {
      const s: NonNullable<GeyserUpdate["slot"]> = { slot: "0", status: 0 };
      fields(r, end(r), (f, w) => {
        if (f === 1 && w === 0) s.slot = u64(r);
        else if (f === 2 && w === 0) s.parent = u64(r);
        else if (f === 3 && w === 0) s.status = varint(r);
        else skip(r, w);
      });
      u.update_oneof = "slot";
      u.slot = s;
    } else if (wire === 2 && (no === 2 || no === 4 || no === 6 || no === 7 || no === 8 || no === 9 || no === 10)) {
      // account, transaction, ping, block_meta, entry, pong, transaction_status: named, not read
      u.update_oneof = KINDS[no];
      skip(r, wire);
    } else skip(r, wire);
  });
  return u;
}

const KINDS: Record<number, GeyserUpdate["update_oneof"]> = {
  2: "account",
  4: "transaction",
  6: "ping",
  7: "block_meta",
  8: "entry",
  9: "pong",
  10: undefined,
};
