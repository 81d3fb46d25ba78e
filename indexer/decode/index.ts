/**
 * Stage 2: raw transactions and blocks -> rows of the data model. Pure functions, no I/O.
 * @dev its output is the decode -> store contract in core/decoded.ts, re-exported here with the decoder; the rows
 * are the tables' insert shapes (`NewSwap`, `NewPool`, ...) from schema/. The implementation lives in sibling files.
 */
export type { DecodeWarning, DecodedBlock, DecodedTransaction, TokenSeen } from "../../core/decoded.js";
export type { TxPosition } from "./types.js";
export { createDecoder } from "./decoder.js";
export type { Decoder, DecoderOptions } from "./decoder.js";
export { createAnchorProgram } from "./anchor/anchor-program.js";
export type { AnchorProgram, DecodedAnchorIx } from "./anchor/anchor-program.js";
export { convertLegacyIdl, normalizeIdl, isNewFormat, idlAddress } from "./anchor/idl-normalize.js";
export type { AnyIdl } from "./anchor/idl-normalize.js";
// The one reader of files in this module: the IDLs of IDL_DIR, read once at start-up and handed to createDecoder.
export { loadIdlDir, type SkippedIdl } from "./idl-loader.js";
