/**
 * Bitcoin Core v30's options that have no counterpart in this node, in
 * two tables. {@linkcode INERT_OPTIONS} are the performance and debugging
 * knobs it takes and ignores (`-dbcache`, `-par`, `-maxsigcachesize`,
 * `-logthreadnames`, ...): Core's help, categories and startup checks,
 * each help ending with why nothing changes here. {@linkcode REFUSED_OPTIONS}
 * are those whose meaning it cannot honour and whose silent acceptance
 * would mislead about the data (`-prune=550`, `-reindex`, `-blocksdir`,
 * ...): accepted by the parser, unlisted, and refused at startup with one
 * line saying why ({@linkcode checkInertOptions}), while the values that
 * ask for nothing (`-prune=0`, `-noreindex`, `-nosettings`) are taken.
 *
 * @example
 * ```ts
 * import { Args } from "./args.ts";
 * import { checkInertOptions, INERT_OPTIONS, REFUSED_OPTIONS } from "./inert_options.ts";
 * const args = new Args([...INERT_OPTIONS, ...REFUSED_OPTIONS]);
 * args.parseCommandLine(["-dbcache=100", "-prune=0", "-reindex"]);
 * try {
 *   checkInertOptions(args, []);
 *   throw new Error("accepted");
 * } catch (error) {
 *   if (!(error as Error).message.startsWith("-reindex: not supported here: ")) throw error;
 * }
 * ```
 * @module
 */
import { type Args, type ArgSpec, compatibilityHelp } from "./args.ts";
import { type Notice, StartupError } from "./config.ts";

/**
 * An option taken and ignored: Core's declaration, why it changes nothing
 * here, and the warning Core v30 gives when it is set (an option it removed).
 */
type InertSpec = ArgSpec & { readonly why: string; readonly warning?: string };

const INERT: readonly InertSpec[] = [
  {
    name: "assumevalid",
    param: "=<hex>",
    help:
      "If this block is in the chain assume that it and its ancestors are valid and potentially skip their script verification (0 to verify all, regtest default: 0)",
    category: "options",
    why: "this node verifies every script",
  },
  {
    name: "blockreconstructionextratxn",
    param: "=<n>",
    help: "Extra transactions to keep in memory for compact block reconstructions (default: 100)",
    category: "options",
    why: "this node has no peers to send it compact blocks",
  },
  {
    name: "blocksxor",
    help:
      "Whether an XOR-key applies to blocksdir *.dat files. The created XOR-key will be zeros for an existing blocksdir or when `-blocksxor=0` is set, and random for a freshly initialized blocksdir. (default: 1)",
    category: "options",
    why: "this node keeps its blocks in SQLite, not in *.dat files",
  },
  {
    name: "dbbatchsize",
    help: "Maximum database write batch size in bytes (default: 16777216)",
    category: "options",
    debugOnly: true,
    why: "this node writes its coins straight to SQLite, a block at a time, with no batch to size",
  },
  {
    name: "dbcache",
    param: "=<n>",
    help:
      "Maximum database cache size <n> MiB (minimum 4, default: 450). Make sure you have enough RAM. In addition, unused memory allocated to the mempool is shared with this cache (see -maxmempool).",
    category: "options",
    why: "this node writes its coins straight to SQLite and caches none",
  },
  {
    name: "checkpoints",
    help: "",
    category: "hidden",
    why: "Core v30 removed checkpoints",
    warning:
      "Option '-checkpoints' is set but checkpoints were removed. This option has no effect.",
  },
  {
    name: "maxorphantx",
    param: "=<n>",
    help: "(Removed option, see release notes)",
    category: "options",
    why: "as in Core v30, it has no effect (this node keeps no orphans either)",
    warning:
      "Option '-maxorphantx' is set but no longer has any effect (see release notes). Please remove it from your configuration.",
  },
  {
    name: "par",
    param: "=<n>",
    help:
      "Set the number of script verification threads (0 = auto, up to 15, <0 = leave that many cores free, default: 0)",
    category: "options",
    why: "this node verifies scripts on one thread",
  },
  {
    name: "capturemessages",
    help: "Capture all P2P messages to disk",
    category: "debug",
    debugOnly: true,
    why: "this node has no peer-to-peer messages",
  },
  {
    name: "checkaddrman",
    param: "=<n>",
    help: "Run addrman consistency checks every <n> operations. Use 0 to disable. (default: 0)",
    category: "debug",
    debugOnly: true,
    why: "this node has no address manager",
  },
  {
    name: "checkblockindex",
    help:
      "Do a consistency check for the block tree, chainstate, and other validation data structures every <n> operations. Use 0 to disable. (default: 0, regtest: 1)",
    category: "debug",
    debugOnly: true,
    why: "this node runs no periodic consistency checks",
  },
  {
    name: "checkmempool",
    param: "=<n>",
    help:
      "Run mempool consistency checks every <n> transactions. Use 0 to disable. (default: 0, regtest: 1)",
    category: "debug",
    debugOnly: true,
    why: "this node runs no periodic consistency checks",
  },
  {
    name: "logips",
    help: "Include IP addresses in log output (default: 0)",
    category: "debug",
    why: "this node has no peers whose addresses it could log",
  },
  {
    name: "logratelimit",
    help:
      "Apply rate limiting to unconditional logging to mitigate disk-filling attacks (default: 1)",
    category: "debug",
    debugOnly: true,
    why: "this node does not rate-limit its log",
  },
  {
    name: "logsourcelocations",
    help:
      "Prepend debug output with name of the originating source location (source file, line number and function name) (default: 0)",
    category: "debug",
    debugOnly: true,
    why: "this node's log lines name no source location",
  },
  {
    name: "logthreadnames",
    help: "Prepend debug output with name of the originating thread (default: 0)",
    category: "debug",
    why: "this node logs from one thread",
  },
  {
    name: "maxsigcachesize",
    param: "=<n>",
    help: "Limit sum of signature cache and script execution cache sizes to <n> MiB (default: 32)",
    category: "debug",
    debugOnly: true,
    why: "this node keeps no signature cache",
  },
  {
    name: "printpriority",
    help: "Log transaction fee rate in BTC/kvB when mining blocks (default: 0)",
    category: "debug",
    debugOnly: true,
    why: "this node's block assembly logs no fee rates",
  },
];

/** The options taken and ignored, with Core v30's help ending in why nothing changes here. */
export const INERT_OPTIONS: readonly ArgSpec[] = INERT.map(({ why, warning: _, ...spec }) => ({
  ...spec,
  help: compatibilityHelp(spec.help, `accepted, as ${why}`),
}));

/** What a refused option's value asks for: a truthy flag, a non-zero integer, any value. */
type Asks = "flag" | "integer" | "value";

/** An option refused at startup when it asks for something: when, and why. */
interface Refused {
  readonly name: string;
  readonly asks: Asks;
  readonly why: string;
}

const REFUSED: readonly Refused[] = [
  { name: "blocksdir", asks: "value", why: "blocks are kept in SQLite under <datadir>/regtest" },
  { name: "checkblocks", asks: "value", why: "this node verifies no blocks at startup" },
  { name: "checklevel", asks: "value", why: "this node verifies no blocks at startup" },
  { name: "coinstatsindex", asks: "flag", why: "this node keeps no coin statistics index" },
  { name: "loadblock", asks: "value", why: "this node imports no block files" },
  { name: "prune", asks: "integer", why: "this node keeps every block" },
  {
    name: "reindex",
    asks: "flag",
    why: "the chain lives in SQLite, with no block files to rebuild it from",
  },
  {
    name: "reindex-chainstate",
    asks: "flag",
    why: "the chain lives in SQLite, with no block files to rebuild it from",
  },
  { name: "settings", asks: "value", why: "this node keeps no dynamic settings file" },
  { name: "signer", asks: "value", why: "this node runs no external signer" },
  { name: "test", asks: "value", why: "this node has none of Core's test-only options" },
  { name: "vbparams", asks: "value", why: "this node's deployments are fixed" },
];

/** The refused options, declared unlisted so that the parser takes them and the check refuses them. */
export const REFUSED_OPTIONS: readonly ArgSpec[] = REFUSED.map(({ name }) => ({
  name,
  help: "",
  category: "hidden",
}));

/** Whether `-name` asks for what this node cannot do. */
function asksFor(args: Args, { name, asks }: Refused): boolean {
  if (!args.isSet(name) || args.isNegated(name)) return false;
  if (asks === "flag") return args.getBool(name, false);
  // Core's GetIntArg: what atoi reads as 0 (-prune=abc too) asks for nothing.
  if (asks === "integer") return args.getInt(name, 0) !== 0;
  const value = args.get(name)!;
  return value !== "";
}

/**
 * Refuses, with one line saying why, an option of
 * {@linkcode REFUSED_OPTIONS} that asks for something; then, as Core v30,
 * warns of `-checkpoints` and `-maxorphantx` (`-assumevalid`'s value is
 * checked with `-minimumchainwork`'s, as Core's chainstate options are).
 */
export function checkInertOptions(args: Args, notices: Notice[]): void {
  for (const refused of REFUSED) {
    if (asksFor(args, refused)) {
      throw new StartupError(`-${refused.name}: not supported here: ${refused.why}`);
    }
  }
  for (const { name, warning } of INERT) {
    // Core's InitWarning: logged, and printed on stderr.
    if (warning !== undefined && args.isSet(name)) {
      notices.push({ level: "warning", message: warning, stderr: `Warning: ${warning}\n` });
    }
  }
}
