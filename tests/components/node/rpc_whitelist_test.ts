/**
 * bitcoind's `-rpcauth` and `-rpcwhitelist` on a real node: users with
 * salted HMAC-SHA256 credentials beside the cookie, each held to the
 * methods its whitelists (intersected) name; a user without one may call
 * nothing once any is given (`-rpcwhitelistdefault`); a refused call or
 * batch is 403 with no body, logged as Core logs it, and runs nothing.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { assert, assertEquals } from "../../assert.ts";
import { startRealNode } from "./real_node.ts";
import { RpcReplyError, waitForRpc } from "../../../components/node/sandboxed.ts";

/** A `-rpcauth` entry for `user` with `password`, as share/rpcauth/rpcauth.py writes it. */
function rpcauth(user: string, password: string): string {
  const salt = crypto.getRandomValues(new Uint8Array(16)).toHex();
  return `${user}:${salt}$${createHmac("sha256", salt).update(password).digest("hex")}`;
}

Deno.test("node: -rpcauth users beside the cookie, held to their -rpcwhitelist (intersected); others may call nothing; refusals are 403 with no body and logged", async () => {
  await using node = await startRealNode({
    args: [
      `-rpcauth=${rpcauth("carol", "pw1")}`,
      `-rpcauth=${rpcauth("dave", "pw2")}`,
      "-rpcwhitelist=carol:getblockcount, getbestblockhash,getblockhash",
      "-rpcwhitelist=carol:getblockcount,getblockhash",
      // The test harness's own user: the cookie's.
      "-rpcwhitelist=__cookie__:getblockcount,stop",
    ],
  });
  const post = async (credentials: string, body: unknown) => {
    const response = await fetch(`http://127.0.0.1:${node.port}/`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(credentials)}` },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };
  const call = (method: string, params: unknown[] = []) => ({
    jsonrpc: "2.0",
    id: 1,
    method,
    params,
  });
  const carol = (body: unknown) => post("carol:pw1", body);
  assertEquals(await carol(call("getblockcount")), {
    status: 200,
    text: '{"jsonrpc":"2.0","result":0,"id":1}\n',
  });
  assertEquals((await carol(call("getblockhash", [0]))).status, 200);
  // Named by one whitelist only: the intersection leaves it out.
  assertEquals(await carol(call("getbestblockhash")), { status: 403, text: "" });
  assertEquals(await carol(call("stop")), { status: 403, text: "" });
  // A batch: every element's method is checked first; one refused refuses the whole.
  assertEquals((await carol([call("getblockcount"), call("getblockhash", [0])])).status, 200);
  assertEquals(await carol([call("getblockcount"), call("getbestblockhash")]), {
    status: 403,
    text: "",
  });
  // Core's errors before the check: an element not an object, a method not a string.
  const notObject = await carol([call("getblockcount"), 1]);
  assertEquals(notObject.status, 400);
  assertEquals(JSON.parse(notObject.text).error.message, "Invalid Request object");
  const noMethod = await carol([{ id: 1 }]);
  assertEquals(noMethod.status, 500);
  assertEquals(
    JSON.parse(noMethod.text).error,
    { code: -32700, message: "JSON value of type null is not of expected type string" },
  );
  // dave has no whitelist: nothing, once the body parses.
  assertEquals(await post("dave:pw2", call("getblockcount")), { status: 403, text: "" });
  assertEquals((await post("dave:pw2", "{")).status, 500);
  assertEquals((await post("dave:pw1", call("getblockcount"))).status, 401);
  assertEquals(await node.call("getblockcount"), 0);
  // The launcher's wait for the node gives up at once, saying why, rather than waiting out.
  const dave = {
    endpoints: [`127.0.0.1:${node.port}`],
    endpoint: { host: "127.0.0.1", port: node.port },
    cookieFile: null,
    user: { name: "dave", password: "pw2" },
  };
  const refused = await waitForRpc(dave, new Promise(() => {})).catch((error) => error);
  assert(refused instanceof RpcReplyError, String(refused));
  assertEquals(
    [refused.code, refused.message],
    [
      403,
      "the node's -rpcwhitelist does not let dave call getblockcount; add it to dave's whitelist",
    ],
  );
  const log = Deno.readTextFileSync(join(node.datadir, "regtest", "debug.log"));
  assert(log.includes("RPC User carol not allowed to call method getbestblockhash"), log);
  assert(log.includes("RPC User dave not allowed to call any methods"), log);
});
