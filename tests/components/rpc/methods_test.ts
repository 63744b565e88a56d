/**
 * Method execution as Core's `CRPCTable::execute`, `transformNamedArguments`
 * and `RPCHelpMan::HandleRequest` do it: named parameters, argument count,
 * type checks, defaults, error mapping and the documented-result check.
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { controlMethods } from "../../../components/rpc/control.ts";
import { RpcError } from "../../../components/rpc/errors.ts";
import {
  Amount,
  asInt,
  asStr,
  type Json,
  type JsonObject,
  parseJson,
  writeJson,
} from "../../../components/rpc/json.ts";
import {
  defineMethod,
  MethodTable,
  type RequestContext,
  transformNamedArguments,
} from "../../../components/rpc/methods.ts";
import { stubMethods } from "./stub_methods.ts";

const ctx: RequestContext = {
  method: "",
  uri: "/",
  walletName: undefined,
  authUser: "__cookie__",
  peer: "127.0.0.1:1",
  jsonVersion: 2,
  signal: new AbortController().signal,
};

const named = (text: string) => parseJson(text) as JsonObject;
const written = (values: Json[]) => writeJson(values);

/** Runs `method` with params given as JSON text; the result text, or the RpcError thrown. */
async function run(
  table: MethodTable,
  method: string,
  params: string,
  docCheck = false,
): Promise<string | RpcError> {
  try {
    return await table.execute(method, parseJson(params) as Json[] | JsonObject, ctx, { docCheck });
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
}

function expectError(outcome: string | RpcError, code: number, message: string): void {
  assert(outcome instanceof RpcError, `expected an error, got ${outcome}`);
  assertEquals([outcome.code, outcome.message], [code, message]);
}

const send = defineMethod({
  name: "send",
  category: "wallet",
  description: "",
  args: [
    { name: "outputs", type: "arr", description: "", inner: [] },
    { name: "conf_target", type: "num", optional: true, description: "" },
    { name: "estimate_mode", type: "str", default: "unset", description: "" },
    {
      name: "options",
      type: "obj_named_params",
      optional: true,
      description: "",
      inner: [
        { name: "add_inputs", type: "bool", optional: true, description: "" },
        { name: "fee_rate", type: "amount", optional: true, description: "" },
      ],
    },
  ],
  result: { type: "any" },
  handler: (params) => params.positional,
});

Deno.test("named arguments: holes filled with null, not at the end", () => {
  const names = send.argNames;
  assertEquals(written(transformNamedArguments(named('{"outputs":[1]}'), names)), "[[1]]");
  assertEquals(
    written(transformNamedArguments(named('{"estimate_mode":"x"}'), names)),
    '[null,null,"x"]',
  );
  assertEquals(
    written(transformNamedArguments(named('{"add_inputs":true,"outputs":[]}'), names)),
    '[[],null,null,{"add_inputs":true}]',
  );
  assertEquals(
    written(transformNamedArguments(named('{"conf_target":2,"args":[[5]]}'), names)),
    "[[5],2]",
  );
  // "args" that is not an array is dropped, as in Core.
  assertEquals(
    written(transformNamedArguments(named('{"conf_target":2,"args":5}'), names)),
    "[null,2]",
  );
});

Deno.test("named arguments: Core's errors", () => {
  const names = send.argNames;
  const cases: [string, string][] = [
    ['{"outputs":[],"outputs":[]}', "Parameter outputs specified multiple times"],
    ['{"nosuch":1}', "Unknown named parameter nosuch"],
    [
      '{"outputs":[],"args":[[1]]}',
      "Parameter outputs specified twice both as positional and named argument",
    ],
    [
      '{"conf_target":1,"args":[[1],2]}',
      "Parameter conf_target specified twice both as positional and named argument",
    ],
    ['{"options":{},"fee_rate":1}', "Parameter options conflicts with parameter fee_rate"],
  ];
  for (const [params, message] of cases) {
    try {
      transformNamedArguments(named(params), names);
      throw new Error(`no error for ${params}`);
    } catch (error) {
      assert(error instanceof RpcError);
      assertEquals([error.code, error.message], [-8, message], params);
    }
  }
});

Deno.test("argument count and type checks", async () => {
  const t = new MethodTable(stubMethods());
  expectError(await run(t, "getblockhash", "[1,2]"), -1, t.get("getblockhash")!.help);
  expectError(
    await run(t, "getblockheader", '[1,"x"]'),
    -3,
    'Wrong type passed:\n{\n    "Position 1 (blockhash)": "JSON value of type number is not of expected type string",\n' +
      '    "Position 2 (verbose)": "JSON value of type string is not of expected type bool"\n}',
  );
  // A null for a required argument is a type mismatch; for an optional one it means "absent".
  expectError(
    await run(t, "getblockhash", "[null]"),
    -3,
    'Wrong type passed:\n{\n    "Position 1 (height)": "JSON value of type null is not of expected type number"\n}',
  );
  assertEquals(
    await run(
      t,
      "getblock",
      '{"verbose":0,"blockhash":"0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"}',
    ),
    '"00"',
  );
  // skipTypeCheck: the handler's own conversion reports the error.
  expectError(
    await run(
      t,
      "getblock",
      '["0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206","x"]',
    ),
    -3,
    "JSON value of type string is not of expected type number",
  );
  expectError(await run(t, "nosuch", "[]"), -32601, "Method not found");
});

Deno.test("handler errors: RpcError as is, type errors -3, other errors -1", async () => {
  const t = new MethodTable([
    defineMethod({
      name: "fail",
      category: "t",
      description: "",
      args: [{ name: "how", type: "str", description: "" }],
      result: { type: "none" },
      handler(params) {
        const how = params.arg("how", asStr);
        if (how === "rpc") throw new RpcError(-5, "Block not found");
        if (how === "type") asInt(params.raw("how"));
        throw new Error("boom");
      },
    }),
  ]);
  expectError(await run(t, "fail", '["rpc"]'), -5, "Block not found");
  expectError(
    await run(t, "fail", '["type"]'),
    -3,
    "JSON value of type string is not of expected type number",
  );
  expectError(await run(t, "fail", '["other"]'), -1, "boom");
});

Deno.test("Params: defaults, maybe, raw", async () => {
  let seen: unknown[] = [];
  const t = new MethodTable([
    defineMethod({
      name: "p",
      category: "t",
      description: "",
      args: [
        { name: "a", type: "num", default: 6, description: "" },
        { name: "b|bee", type: "str", optional: true, description: "" },
        { name: "c", type: "amount", default: "0.5", description: "" },
      ],
      result: { type: "none" },
      handler(params) {
        seen = [
          params.arg("a", asInt),
          params.maybe("b", asStr),
          params.maybe("bee", asStr),
          params.has("b"),
          writeJson(params.raw("c")),
          params.positional.length,
        ];
      },
    }),
  ]);
  await run(t, "p", "[]");
  assertEquals(seen, [6, undefined, undefined, false, "null", 0]);
  await run(t, "p", '{"bee":"x"}');
  assertEquals(seen, [6, "x", "x", true, "null", 2]);
  await run(t, "p", '[null,null,"1"]');
  assertEquals(seen, [6, undefined, undefined, false, '"1"', 3]);
});

Deno.test("docCheck: results checked against the documented shape (Core's -rpcdoccheck)", async () => {
  const make = (result: unknown) =>
    new MethodTable([
      defineMethod({
        name: "r",
        category: "t",
        description: "",
        result: {
          type: "obj",
          inner: [
            { type: "num", key: "n", description: "" },
            { type: "amount", key: "fee", description: "" },
            { type: "str", key: "opt", optional: true, description: "" },
            {
              type: "arr",
              key: "list",
              description: "",
              inner: [{ type: "hex", description: "" }],
            },
          ],
        },
        handler: () => result as never,
      }),
    ]);
  const good = { n: 1, fee: new Amount(5n), list: ["ab"] };
  assertEquals(await run(make(good), "r", "[]", true), '{"n":1,"fee":0.00000005,"list":["ab"]}');
  const bad = await run(make({ n: "1", extra: true, list: [1] }), "r", "[]", true);
  assert(bad instanceof RpcError);
  assertEquals(bad.code, -1);
  assertEquals(
    bad.message,
    'Internal bug detected: RPC call "r" returned incorrect type:\n' +
      '{\n    "extra": "key returned that was not in doc",\n' +
      '    "n": "returned type is string, but declared as number in doc",\n' +
      '    "fee": "key missing, despite not being optional in doc",\n' +
      '    "list": {\n        "0": "returned type is number, but declared as string in doc"\n    }\n}\n' +
      "Bitcoin Core v30.0.0\nPlease report this issue here: https://github.com/bitcoin/bitcoin/issues\n",
  );
  // Without docCheck (Core's default) the result goes out as it is.
  assertEquals(await run(make({ n: "1" }), "r", "[]"), '{"n":"1"}');
});

Deno.test("execute: warm-up answers -28 before anything else", async () => {
  const t = new MethodTable(stubMethods());
  await assertRejects(
    () => t.execute("nosuch", [], ctx, { warmupStatus: "Loading block index…" }),
    RpcError,
    "Loading block index…",
  );
});

Deno.test("control methods: echo, its internal-bug trigger, uptime, help", async () => {
  const t = new MethodTable();
  for (const m of controlMethods({ table: t, requestShutdown: () => {}, startTime: 0 })) t.add(m);
  const outcome = await run(t, "echo", '{"arg9":"trigger_internal_bug"}');
  assert(outcome instanceof RpcError);
  assertEquals(outcome.code, -1);
  assert(
    outcome.message.startsWith(
      'Internal bug detected: request.params[9].get_str() != "trigger_internal_bug"\n',
    ),
  );
  assertEquals(await run(t, "echo", '["a",1]'), '["a",1]');
  expectError(await run(t, "echo", "[0,1,2,3,4,5,6,7,8,9,10]"), -1, t.get("echo")!.help);
  const before = Math.floor(Date.now() / 1000);
  const uptime = Number(await run(t, "uptime", "[]"));
  assert(
    before <= uptime && uptime <= Math.floor(Date.now() / 1000),
    "uptime counts from the start time",
  );
  expectError(
    await run(t, "help", "[null]"),
    -3,
    "JSON value of type null is not of expected type string",
  );
});
