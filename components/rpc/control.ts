/**
 * The methods that need no chain: `help`, `stop`, `uptime`, `getrpcinfo`
 * (Core's `rpc/server.cpp`) and `echo`, `echojson` (`rpc/node.cpp`), with
 * Core's help texts. The server registers them in every method table.
 *
 * @module
 */
import { internalBug } from "./errors.ts";
import { helpExampleCli, helpExampleRpc } from "./help.ts";
import { asInt, asStr, type JsonInput, JsonNumber } from "./json.ts";
import { defineMethod, type MethodTable, type RpcMethod } from "./methods.ts";
import type { ArgSpec } from "./spec.ts";

/** What the control methods need from their server. */
export interface ControlOptions {
  /** The table `help` lists (it includes these methods). */
  readonly table: MethodTable;
  /** Called by `stop` before it answers; the server then shuts down. */
  readonly requestShutdown: () => void;
  /** When the node started (ms since the epoch), for `uptime`. */
  readonly startTime: number;
  /** The debug log's path, for `getrpcinfo` ("" when unknown). */
  readonly logPath?: string;
}

/** The result `stop` returns. */
export const STOP_RESULT = "Bitcoin Core stopping";

/** `help`, `stop`, `uptime`, `echo` and `echojson`. */
export function controlMethods(options: ControlOptions): RpcMethod[] {
  return [
    defineMethod({
      name: "help",
      category: "control",
      description: "List all commands, or get help for a specified command.\n",
      args: [{
        name: "command",
        type: "str",
        defaultHint: "all commands",
        description: "The command to get help on",
      }],
      result: [{ type: "str", description: "The help text" }, { type: "any" }],
      handler(params) {
        const command = params.positional.length > 0 ? asStr(params.positional[0]) : "";
        // Used by Core's tests only, undocumented.
        if (command === "dump_all_command_conversions") return options.table.argMap();
        return options.table.help(command);
      },
    }),
    defineMethod({
      name: "stop",
      category: "control",
      description: "Request a graceful shutdown of Bitcoin Core.",
      args: [{
        name: "wait",
        type: "num",
        optional: true,
        description: "how long to wait in ms",
        hidden: true,
      }],
      result: { type: "str", description: `A string with the content '${STOP_RESULT}'` },
      async handler(params) {
        options.requestShutdown();
        const wait = params.raw("wait");
        if (wait instanceof JsonNumber) {
          const ms = asInt(wait);
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
        }
        return STOP_RESULT;
      },
    }),
    defineMethod({
      name: "uptime",
      category: "control",
      description: "Returns the total uptime of the server.\n",
      result: {
        type: "num",
        description: "The number of seconds that the server has been running",
      },
      examples: helpExampleCli("uptime", "") + helpExampleRpc("uptime", ""),
      handler: () => Math.floor(Date.now() / 1000) - Math.floor(options.startTime / 1000),
    }),
    defineMethod({
      name: "getrpcinfo",
      category: "control",
      description: "Returns details of the RPC server.\n",
      result: {
        type: "obj",
        description: "",
        inner: [
          {
            type: "arr",
            key: "active_commands",
            description: "All active commands",
            inner: [{
              type: "obj",
              description: "Information about an active command",
              inner: [
                { type: "str", key: "method", description: "The name of the RPC command" },
                { type: "num", key: "duration", description: "The running time in microseconds" },
              ],
            }],
          },
          { type: "str", key: "logpath", description: "The complete file path to the debug log" },
        ],
      },
      examples: helpExampleCli("getrpcinfo", "") + helpExampleRpc("getrpcinfo", ""),
      handler: () =>
        new Map<string, JsonInput>([
          [
            "active_commands",
            options.table.activeCommands.map((command) =>
              new Map<string, JsonInput>([
                ["method", command.method],
                ["duration", Math.floor((performance.now() - command.start) * 1000)],
              ])
            ),
          ],
          ["logpath", options.logPath ?? ""],
        ]),
    }),
    echoMethod("echo"),
    echoMethod("echojson"),
  ];
}

function echoMethod(name: string): RpcMethod {
  const args: ArgSpec[] = Array.from({ length: 10 }, (_, i) => ({
    name: `arg${i}`,
    type: "str",
    optional: true,
    description: "",
    skipTypeCheck: true,
  }));
  return defineMethod({
    name,
    category: "hidden",
    description: "Simply echo back the input arguments. This command is for testing.\n" +
      "\nIt will return an internal bug report when arg9='trigger_internal_bug' is passed.\n" +
      "\nThe difference between echo and echojson is that echojson has argument conversion " +
      "enabled in the client-side table in bitcoin-cli and the GUI. There is no server-side " +
      "difference.",
    args,
    result: { type: "any", description: "Returns whatever was passed in" },
    handler(params): JsonInput {
      if (params.positional[9] === "trigger_internal_bug") {
        throw new Error(internalBug(
          'request.params[9].get_str() != "trigger_internal_bug"',
          "rpc/node.cpp:299 (operator())",
        ));
      }
      return params.positional;
    },
  });
}
