/**
 * The exact `deno run` permission flags bitcoin-cli needs for its options,
 * and nothing more:
 *
 * - read on the configuration file (whether or not it exists: the client
 *   looks for it) and on the cookie file (`<datadir>/<chain>/.cookie` or
 *   `-rpccookiefile`), not on the data directory itself: a directory the
 *   client may not look at is taken to exist, as the launcher checked;
 * - net on the one `host:port` it calls (none when `-rpcconnect` or
 *   `-rpcport` is invalid: the client then reports that without calling);
 * - env `HOME` only when no `-datadir` is given (the default `~/.bitcoin`).
 *
 * @example
 * ```ts
 * import { appInit } from "./options.ts";
 * import { cliPermissions } from "./permissions.ts";
 * const datadir = Deno.makeTempDirSync();
 * const start = appInit(["-regtest", `-datadir=${datadir}`, "getblockcount"]);
 * if (start.kind !== "run") throw new Error("expected a command");
 * const flags = cliPermissions(start.settings).join(" ");
 * const expected = `--allow-read=${datadir}/bitcoin.conf,${datadir}/regtest/.cookie ` +
 *   "--allow-net=127.0.0.1:18443";
 * if (flags !== expected) throw new Error(flags);
 * Deno.removeSync(datadir, { recursive: true });
 * ```
 * @module
 */
import { netPermission } from "../node/options.ts";
import { permissionFlags } from "../node/permissions.ts";
import { cookiePath, rpcEndpoint } from "./call.ts";
import type { CliSettings } from "./options.ts";

/** The endpoint's `host:port` grant, or none when the options name no valid one. */
function endpointGrant(settings: CliSettings): string[] {
  try {
    return [netPermission(rpcEndpoint(settings))];
  } catch {
    return [];
  }
}

/**
 * The `--allow-*` flags for `settings`, in a stable order. Throws when a path
 * holds a comma, which Deno's permission lists cannot express.
 */
export function cliPermissions(settings: CliSettings): string[] {
  const cookie = cookiePath(settings);
  const read = [
    ...(settings.configFile === "" ? [] : [settings.configFile]),
    ...settings.configFilesRead,
    ...(cookie === null ? [] : [cookie]),
  ];
  return permissionFlags({
    read,
    net: endpointGrant(settings),
    env: settings.datadirGiven ? [] : ["HOME"],
  });
}
