/**
 * The layering rules CI holds (docs/contributing.md explains them):
 *   cli -> (indexer | api | devchain) -> core -> schema, with no cycles anywhere;
 *   a module (a folder under indexer/ or api/) is used through its index.ts only;
 *   the stages of the indexer (source, decode, store, queue) import no other stage;
 *   nothing outside test/ and bench/ imports test/.
 */
const PRODUCT = "^(cli|core|indexer|api|schema|devchain|scripts)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "an import cycle: modules that need each other are one module, or a contract belongs in core/",
      from: {},
      to: { circular: true },
    },
    {
      name: "api-reads-core-and-schema-only",
      severity: "error",
      comment: "the API is its own app: it shares core/ and schema/ with the indexer, nothing else",
      from: { path: "^api/" },
      to: { path: "^(indexer|cli|devchain|scripts|test|bench)/" },
    },
    {
      name: "indexer-does-not-import-apps",
      severity: "error",
      comment: "the indexer shares core/ and schema/ with the API; the CLI composes both",
      from: { path: "^indexer/" },
      to: { path: "^(api|cli|devchain|scripts|test|bench)/" },
    },
    {
      name: "core-is-shared",
      severity: "error",
      comment: "core/ is what both apps share: it imports schema/ and libraries only",
      from: { path: "^core/" },
      to: { path: "^(indexer|api|cli|devchain|scripts|test|bench)/" },
    },
    {
      name: "schema-imports-nothing",
      severity: "error",
      comment: "schema/ is the data model drizzle-kit diffs: it imports no project code",
      from: { path: "^schema/" },
      to: { path: "^(core|indexer|api|cli|devchain|scripts|test|bench)/" },
    },
    {
      name: "devchain-is-standalone",
      severity: "error",
      comment: "the local chain shares only core/ (the raw RPC shapes) with slotline",
      from: { path: "^devchain/" },
      to: { path: "^(indexer|api|cli|scripts|test|bench|schema)/" },
    },
    {
      name: "product-does-not-import-tests",
      severity: "error",
      comment: "nothing outside test/ and bench/ imports test/ (or bench/)",
      from: { path: PRODUCT },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "stages-are-independent",
      severity: "error",
      comment: "a stage (source, decode, store, queue) knows its input and output types, not another stage",
      from: { path: "^indexer/(source|decode|store|queue)/" },
      to: { path: "^indexer/(source|decode|store|queue|ingest|pipeline|backfill)/", pathNot: "^indexer/$1/" },
    },
    {
      name: "modules-through-their-index",
      severity: "error",
      comment: "a module's index.ts is its public face; its other files are private helpers (no deep imports)",
      from: { path: "^(indexer|api)/([^/]+)/" },
      to: { path: "^(indexer|api)/[^/]+/.", pathNot: ["^$1/$2/", "^(indexer|api)/[^/]+/index\\.ts$"] },
    },
    {
      name: "cli-uses-module-faces",
      severity: "error",
      comment: "the composition root wires modules through their index.ts, like any other caller",
      from: { path: "^cli/" },
      to: { path: "^(indexer|api)/[^/]+/.", pathNot: "^(indexer|api)/[^/]+/index\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)dist/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
