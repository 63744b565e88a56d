/**
 * The gui's own options, read the same way by the gui process and by the
 * launcher that grants it its port: `-guiport=<port>` (18480 by default)
 * and `-noipctoken` (the node it attaches to was started outside the
 * supervisor and asks for no token). Other options are left to the
 * runtime (`-datadir`, `-ipcconnect`, `-lifeline`, `-debug`).
 *
 * @example
 * ```ts
 * import { guiNetGrant, parseGuiArgs } from "./options.ts";
 * const options = parseGuiArgs(["-guiport=18999"]);
 * if (options.port !== 18999 || !options.token) throw new Error("parsed wrongly");
 * if (guiNetGrant(options) !== "127.0.0.1:18999") throw new Error("the grant is the port");
 * ```
 * @module
 */

/** The gui's port unless `-guiport` says otherwise. */
export const DEFAULT_GUI_PORT = 18480;

/** What the gui's options say. */
export interface GuiOptions {
  /** The web interface's port on 127.0.0.1. */
  port: number;
  /** Whether to present the supervisor's token to the node (not with `-noipctoken`). */
  token: boolean;
}

/** Reads the gui's options from its arguments; throws a one-line error for a bad one. */
export function parseGuiArgs(args: readonly string[]): GuiOptions {
  const options: GuiOptions = { port: DEFAULT_GUI_PORT, token: true };
  for (const arg of args) {
    const port = /^--?guiport=(.*)$/.exec(arg);
    if (port !== null) {
      const value = Number(port[1]);
      if (!/^\d{1,5}$/.test(port[1]) || value < 1 || value > 65535) {
        throw new Error(`Invalid port specified in -guiport: '${port[1]}'`);
      }
      options.port = value;
    } else if (/^--?noipctoken$/.test(arg)) options.token = false;
  }
  return options;
}

/** The `--allow-net` grant the gui needs: its port on 127.0.0.1, nothing else. */
export function guiNetGrant(options: GuiOptions): string {
  return `127.0.0.1:${options.port}`;
}
