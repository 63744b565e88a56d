/**
 * The method fuzzer (`method_fuzz.ts`) on fixed seeds against the node
 * (`-rpcdoccheck`) and a wallet process, and what its campaigns found on
 * the node's side.
 */
import { assertEquals } from "../../../assert.ts";
import { RawConnection } from "../../rpc/raw_http.ts";
import {
  cookieAuth,
  methodCase,
  methodShapes,
  runMethodCase,
  startMethodFuzzTarget,
} from "./method_fuzz.ts";

Deno.test("method fuzz: 600 fixed seeds, valid and mutated, every method of node and wallet", async () => {
  await using target = await startMethodFuzzTarget();
  const methods = methodShapes();
  const auth = cookieAuth(target.node);
  using conn = await RawConnection.open(target.node.port);
  const failures: string[] = [];
  for (let seed = 1; seed <= 600; seed++) {
    const fuzzCase = methodCase(seed, methods, target.context, seed % 4 !== 0);
    const problem = (await runMethodCase(conn, auth, fuzzCase)).problem ?? await target.health();
    if (problem) {
      failures.push(`seed ${seed} ${fuzzCase.method} ${fuzzCase.params.slice(0, 200)}: ${problem}`);
    }
    if (/wallet/.test(fuzzCase.method)) await target.restoreWallet();
  }
  assertEquals(failures, []);
});

Deno.test("wallet number arguments are read as Core's getInt before they cross to the wallet", async () => {
  // listtransactions "*" 1.5 listed transactions, listunspent 1e400 took Infinity, and
  // rescanblockchain 1.5 failed in the IPC layer with "expected Int32 (an integer), got number 0.5".
  await using target = await startMethodFuzzTarget();
  const rpc = async (method: string, params: string) =>
    JSON.parse(
      (await target.node.raw(
        `{"jsonrpc":"2.0","id":1,"method":"${method}","params":${params}}`,
        "/wallet/w",
      )).text,
    ).error;
  const outOfRange = { code: -1, message: "JSON integer out of range" };
  for (
    const [method, params] of [
      ["listtransactions", '["*", 1.5]'],
      ["listtransactions", '["*", 1.0]'],
      ["listunspent", "[1e400]"],
      ["getbalance", '["*", 2147483648]'],
      ["listsinceblock", "[null, 1e0]"],
      ["rescanblockchain", "[1.5]"],
      ["walletpassphrase", '["pw", 9223372036854775808]'],
    ]
  ) {
    assertEquals(await rpc(method, params), outOfRange, `${method} ${params}`);
  }
  assertEquals(await rpc("listtransactions", '["*", 2147483647]'), undefined);
  assertEquals(await target.health(), null);
});
