/**
 * Account keys as base58 text for the Geyser answers (geyser-block.ts), remembered: keys repeat across a block's
 * transactions (programs, mints, pools, signers), so the text of recent ones is kept, cleared when it fills.
 */
import { base58Encode } from "../../core/base58.js";

const KEY_CACHE_MAX = 100_000;
const keys = new Map<string, string>();

/** A 32-byte account key (or any short byte string) as base58 text, remembered. */
export function keyText(bytes: Uint8Array): string {
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  let text = keys.get(id);
  if (text === undefined) {
    if (keys.size >= KEY_CACHE_MAX) keys.clear();
    text = base58Encode(bytes);
    keys.set(id, text);
  }
  return text;
}
