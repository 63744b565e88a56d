/**
 * The node's `control` methods beside the server's own (`rpc/node.cpp`):
 * getmemoryinfo — this node has no locked memory manager (no wallet keys
 * live in its process), so every count is 0, and no `mallocinfo` — and
 * logging, which reads and sets the debug categories of the node's log;
 * and the hidden setmocktime, which holds the node's clock, and its wallet
 * processes', at a given time.
 *
 * `nodeMethods` (`mod.ts`, whose example runs it) adds `controlMethods(…)` to the
 * server's table with the others.
 * @module
 */
import {
  asArr,
  asInt64,
  asStr,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  type Json,
  type JsonInput,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { LOG_CATEGORIES } from "../options.ts";
import { MAX_MOCK_TIME } from "../../bitcoin/clock.ts";
import { bool, num, obj, objDyn, when } from "./docs.ts";
import type { NodeServices } from "./services.ts";

/** The control methods. */
export function controlMethods(node: NodeServices): RpcMethod[] {
  return [
    defineMethod({
      name: "getmemoryinfo",
      category: "control",
      description: "Returns an object containing information about memory usage.\n",
      args: [{
        name: "mode",
        type: "str",
        default: "stats",
        description: "determines what kind of information is returned.\n" +
          '- "stats" returns general statistics about memory usage in the daemon.\n' +
          '- "mallocinfo" returns an XML string describing low-level heap state (only available if compiled with glibc).',
      }],
      result: [
        when(
          'mode "stats"',
          obj("", "", [
            obj("locked", "Information about locked memory manager", [
              num("used", "Number of bytes used"),
              num("free", "Number of bytes available in current arenas"),
              num("total", "Total number of bytes managed"),
              num(
                "locked",
                "Amount of bytes that succeeded locking. If this number is smaller than total, locking pages failed at some point and key data could be swapped to disk.",
              ),
              num("chunks_used", "Number allocated chunks"),
              num("chunks_free", "Number unused chunks"),
            ]),
          ]),
        ),
        when('mode "mallocinfo"', { type: "str", description: '"<malloc version="1">..."' }),
      ],
      examples: helpExampleCli("getmemoryinfo", "") + helpExampleRpc("getmemoryinfo", ""),
      handler(params) {
        const mode = params.arg("mode", asStr);
        if (mode === "mallocinfo") {
          throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "mallocinfo mode not available");
        }
        if (mode !== "stats") {
          throw new RpcError(RpcErrorCode.INVALID_PARAMETER, `unknown mode ${mode}`);
        }
        const zeros = ["used", "free", "total", "locked", "chunks_used", "chunks_free"];
        return new Map<string, JsonInput>([
          ["locked", new Map<string, JsonInput>(zeros.map((key) => [key, 0]))],
        ]);
      },
    }),
    defineMethod({
      name: "logging",
      category: "control",
      description: "Gets and sets the logging configuration.\n" +
        "When called without an argument, returns the list of categories with status that are currently being debug logged or not.\n" +
        "When called with arguments, adds or removes categories from debug logging and return the lists above.\n" +
        'The arguments are evaluated in order "include", "exclude".\n' +
        "If an item is both included and excluded, it will thus end up being excluded.\n" +
        `The valid logging categories are: ${[...LOG_CATEGORIES].sort().join(", ")}\n` +
        "In addition, the following are available as category names with special meanings:\n" +
        '  - "all",  "1" : represent all logging categories.\n',
      args: [
        {
          name: "include",
          type: "arr",
          optional: true,
          description: "The categories to add to debug logging",
          inner: [{
            name: "include_category",
            type: "str",
            optional: true,
            description: "the valid logging category",
          }],
        },
        {
          name: "exclude",
          type: "arr",
          optional: true,
          description: "The categories to remove from debug logging",
          inner: [{
            name: "exclude_category",
            type: "str",
            optional: true,
            description: "the valid logging category",
          }],
        },
      ],
      result: objDyn("", "keys are the logging categories, and values indicates its status", [
        bool("category", "if being debug logged or not. false:inactive, true:active"),
      ]),
      examples: helpExampleCli("logging", '"[\\"all\\"]" "[\\"http\\"]"') +
        helpExampleRpc("logging", '["all"], ["libevent"]'),
      handler(params) {
        const log = node.logCategories;
        if (!log) throw new RpcError(RpcErrorCode.MISC_ERROR, "This node has no log to configure");
        const apply = (value: Json, enabled: boolean) => {
          if (!Array.isArray(value)) return;
          for (const item of asArr(value)) {
            const category = asStr(item);
            if (!log.setCategory(category, enabled)) {
              throw new RpcError(
                RpcErrorCode.INVALID_PARAMETER,
                `unknown logging category ${category}`,
              );
            }
          }
        };
        apply(params.raw("include"), true);
        apply(params.raw("exclude"), false);
        return new Map<string, JsonInput>(log.categories());
      },
    }),
    defineMethod({
      name: "setmocktime",
      category: "hidden",
      description: "Set the local time to given timestamp (-regtest only)\n",
      args: [{
        name: "timestamp",
        type: "num",
        description: "UNIX epoch time\nPass 0 to go back to using the system time.",
      }],
      result: { type: "none", description: "" },
      async handler(params) {
        const time = params.arg("timestamp", asInt64);
        if (time < 0n || time > BigInt(MAX_MOCK_TIME)) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            `Mocktime must be in the range [0, ${MAX_MOCK_TIME}], not ${time}.`,
          );
        }
        try {
          await node.setMockTime(Number(time));
        } catch (error) {
          throw new RpcError(RpcErrorCode.MISC_ERROR, (error as Error).message);
        }
      },
    }),
  ];
}
