/**
 * The System program instructions that move lamports (transfer, createAccount and their seeded forms).
 * Used to measure SOL-holding pool vaults (pump.fun's bonding curve), never recorded as rows themselves.
 */

/** The System program id. */
export const SYSTEM_PROGRAM_ID = "11111111111111111111111111111111";

/** A lamport movement between two account indexes. */
export type LamportMove = { from: number | undefined; to: number | undefined; lamports: bigint };

/** Decodes a lamport-moving System instruction, undefined for every other one. */
export function decodeSystemLamports(data: Uint8Array, accounts: number[]): LamportMove | undefined {
  if (data.length < 12) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tag = view.getUint32(0, true);
  switch (tag) {
    case 0: // createAccount { lamports, space, owner }
    case 2: // transfer { lamports }
      return { from: accounts[0], to: accounts[1], lamports: view.getBigUint64(4, true) };
    case 3: // createAccountWithSeed { base, seed, lamports, ... }: lamports follow a length-prefixed seed
      {
        if (data.length < 4 + 32 + 8) return undefined;
        const seedLen = Number(view.getBigUint64(36, true));
        const off = 44 + seedLen;
        if (off + 8 > data.length) return undefined;
        return { from: accounts[0], to: accounts[1], lamports: view.getBigUint64(off, true) };
      }
    case 11: // transferWithSeed { lamports, from_seed, from_owner }
      return { from: accounts[0], to: accounts[2], lamports: view.getBigUint64(4, true) };
    default:
      return undefined;
  }
}
