/**
 * A block update's protobuf bytes (SubscribeUpdate with its `block` set, core/proto), written straight from the
 * GeyserBlock shape: the fields slotline's readers know (core/geyser.ts), in field-number order, zeros and empty
 * fields left out as proto3 leaves them.
 * @dev proto-loader's generic encode (protobufjs fromObject, then encode) cost the chain more CPU than producing the
 * slot: 320 ms for a block update of 420 transactions. A Yellowstone server is native code whose cost is not the
 * indexer's; the local chain should not take the indexer's cores to stand in for it.
 */
import type { GeyserBlock, GeyserInstruction, GeyserTokenBalance, GeyserTransactionInfo, U64 } from "../core/geyser.js";

/** A growing buffer; a nested message is written after a 1-byte length, moved along when its length needs more. */
class Writer {
  buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(v: number): void {
    this.need(10);
    const { buf } = this;
    while (v >= 128) {
      buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  tag(no: number, wire: number): void {
    this.varint(no * 8 + wire);
  }

  /** A u64 (decimal string or number): exact past 2^53. */
  u64(v: U64): void {
    const n = typeof v === "number" ? v : Number(v);
    if (Number.isSafeInteger(n) && n >= 0) return this.varint(n);
    let b = BigInt(v);
    if (b < 0n) b += 1n << 64n;
    this.need(10);
    while (b >= 128n) {
      this.buf[this.pos++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.buf[this.pos++] = Number(b);
  }

  bytes(no: number, b: Uint8Array): void {
    this.tag(no, 2);
    this.varint(b.length);
    this.need(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Bytes already encoded (whole fields). */
  raw(b: Uint8Array): void {
    this.need(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  str(no: number, s: string): void {
    this.tag(no, 2);
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.need(n);
    this.pos += this.buf.write(s, this.pos, n, "utf8");
  }

  /** A nested message: `body` writes its fields. */
  nested(no: number, body: () => void): void {
    this.tag(no, 2);
    this.need(1);
    const at = this.pos++;
    body();
    const len = this.pos - at - 1;
    let extra = 0;
    for (let v = len; v >= 128; v = Math.floor(v / 128)) extra++;
    if (extra > 0) {
      this.need(extra);
      this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
      this.pos += extra;
    }
    let v = len;
    let p = at;
    while (v >= 128) {
      this.buf[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[p] = v;
  }

  uint(no: number, v: number): void {
    if (v === 0) return;
    this.tag(no, 0);
    this.varint(v);
  }

  long(no: number, v: U64): void {
    if (v === 0 || v === "0") return;
    this.tag(no, 0);
    this.u64(v);
  }

  bool(no: number, v: boolean): void {
    if (v) this.uint(no, 1);
  }

  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

function instruction(w: Writer, no: number, ix: GeyserInstruction): void {
  w.nested(no, () => {
    w.uint(1, ix.program_id_index);
    if (ix.accounts.length) w.bytes(2, ix.accounts);
    if (ix.data.length) w.bytes(3, ix.data);
    // proto3 optional: sent when set, zero included
    if (ix.stack_height !== undefined && ix.stack_height !== null) {
      w.tag(4, 0);
      w.varint(ix.stack_height);
    }
  });
}

function tokenBalance(w: Writer, no: number, t: GeyserTokenBalance): void {
  w.nested(no, () => {
    w.uint(1, t.account_index);
    if (t.mint) w.str(2, t.mint);
    w.nested(3, () => {
      const a = t.ui_token_amount;
      if (a.ui_amount !== 0) {
        w.tag(1, 1);
        w.need(8);
        w.buf.writeDoubleLE(a.ui_amount, w.pos);
        w.pos += 8;
      }
      w.uint(2, a.decimals);
      if (a.amount) w.str(3, a.amount);
      if (a.ui_amount_string) w.str(4, a.ui_amount_string);
    });
    if (t.owner) w.str(4, t.owner);
    if (t.program_id) w.str(5, t.program_id);
  });
}

function packed(w: Writer, no: number, xs: readonly U64[]): void {
  if (xs.length === 0) return;
  w.nested(no, () => {
    for (const x of xs) w.u64(x);
  });
}

/**
 * The parts of a SubscribeUpdateTransactionInfo that a clone of the transaction shares (every field but the
 * signatures and the position), each as its whole field: tag, length and message.
 */
export type TxPieces = { isVote: boolean; message: Buffer; meta: Buffer };

/** A transaction's TxPieces. */
export function txPieces(t: GeyserTransactionInfo): TxPieces {
  const m = t.transaction.message;
  const w = new Writer(1024);
  w.nested(2, () => {
    w.nested(1, () => {
      w.uint(1, m.header.num_required_signatures);
      w.uint(2, m.header.num_readonly_signed_accounts);
      w.uint(3, m.header.num_readonly_unsigned_accounts);
    });
    for (const k of m.account_keys) w.bytes(2, k);
    if (m.recent_blockhash.length) w.bytes(3, m.recent_blockhash);
    for (const ix of m.instructions) instruction(w, 4, ix);
    w.bool(5, m.versioned);
    for (const l of m.address_table_lookups)
      w.nested(6, () => {
        if (l.account_key.length) w.bytes(1, l.account_key);
        if (l.writable_indexes.length) w.bytes(2, l.writable_indexes);
        if (l.readonly_indexes.length) w.bytes(3, l.readonly_indexes);
      });
  });
  const message = w.done();
  w.pos = 0;
  const meta = t.meta;
  w.nested(4, () => {
    if (meta.err)
      w.nested(1, () => {
        if (meta.err!.err.length) w.bytes(1, meta.err!.err);
      });
    w.long(2, meta.fee);
    packed(w, 3, meta.pre_balances);
    packed(w, 4, meta.post_balances);
    for (const g of meta.inner_instructions)
      w.nested(5, () => {
        w.uint(1, g.index);
        for (const ix of g.instructions) instruction(w, 2, ix);
      });
    for (const s of meta.log_messages) w.str(6, s);
    for (const b of meta.pre_token_balances) tokenBalance(w, 7, b);
    for (const b of meta.post_token_balances) tokenBalance(w, 8, b);
    w.bool(10, meta.inner_instructions_none);
    w.bool(11, meta.log_messages_none);
    for (const k of meta.loaded_writable_addresses) w.bytes(12, k);
    for (const k of meta.loaded_readonly_addresses) w.bytes(13, k);
    if (meta.return_data)
      w.nested(14, () => {
        if (meta.return_data!.program_id.length) w.bytes(1, meta.return_data!.program_id);
        if (meta.return_data!.data.length) w.bytes(2, meta.return_data!.data);
      });
    w.bool(15, meta.return_data_none);
    if (meta.compute_units_consumed !== undefined) {
      w.tag(16, 0);
      w.u64(meta.compute_units_consumed);
    }
  });
  return { isVote: t.is_vote, message, meta: w.done() };
}

/** One transaction of a block (field 6 of SubscribeUpdateBlock): its signatures, its shared pieces, its position. */
function transactionInfo(w: Writer, signatures: readonly Uint8Array[], p: TxPieces, index: number | string): void {
  w.nested(6, () => {
    if (signatures[0]?.length) w.bytes(1, signatures[0]);
    w.bool(2, p.isVote);
    w.nested(3, () => {
      for (const s of signatures) w.bytes(1, s);
      w.raw(p.message);
    });
    w.raw(p.meta);
    w.long(5, index);
  });
}

/** What a block update carries besides its transactions. */
export type BlockHead = Omit<GeyserBlock, "transactions">;

/**
 * The bytes of a block update (`filters`, the block `head`, and its transactions: `each` calls `tx` once per sent
 * transaction, in block order), as grpc-js would send the same SubscribeUpdate.
 */
export function encodeBlockParts(
  filters: readonly string[],
  head: BlockHead,
  each: (tx: (signatures: readonly Uint8Array[], p: TxPieces, index: number | string) => void) => void,
): Buffer {
  const w = new Writer(1 << 16);
  for (const f of filters) w.str(1, f);
  w.nested(5, () => {
    w.long(1, head.slot);
    if (head.blockhash) w.str(2, head.blockhash);
    if (head.block_time) w.nested(4, () => w.long(1, head.block_time!.timestamp));
    if (head.block_height) w.nested(5, () => w.long(1, head.block_height!.block_height));
    each((signatures, p, index) => transactionInfo(w, signatures, p, index));
    w.long(7, head.parent_slot);
    if (head.parent_blockhash) w.str(8, head.parent_blockhash);
    w.long(9, head.executed_transaction_count);
  });
  return w.done();
}

/** The bytes of `{ filters, block }` as a SubscribeUpdate (the form grpc-js's serializer would give, field for field). */
export function encodeBlockUpdate(filters: readonly string[], b: GeyserBlock): Buffer {
  const { transactions, ...head } = b;
  return encodeBlockParts(filters, head, (tx) => {
    for (const t of transactions) tx(t.transaction.signatures, txPieces(t), t.index);
  });
}
