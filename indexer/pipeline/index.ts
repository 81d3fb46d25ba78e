/**
 * The pipeline: the BullMQ worker that turns a job into stored rows (fetch -> decode -> store -> publish), and the
 * token enricher that fills in mint metadata. Uses source, decode, queue and store through their index files.
 */
export {
  type BatchIndexer,
  createBatchIndexer,
  createBlockWorker,
  createEventPublisher,
  createLock,
  toEvent,
  walLsnReader,
  type WorkerDeps,
} from "./worker.js";
export {
  createTokenEnricher,
  mintExtensions,
  type MintInfo,
  parseMetadata,
  parseMint,
  parseTokenMetadataExtension,
} from "./token-enricher.js";
