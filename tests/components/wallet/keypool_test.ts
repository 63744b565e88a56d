/**
 * keypoolrefill end to end: a node and a wallet process over HTTP. A refill
 * watches more scripts on every chain (so coins to them are the wallet's),
 * shows in getwalletinfo and listdescriptors, survives a reload, never
 * shrinks the pool, and is refused where Core refuses it.
 */
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";
import { startRealNode } from "../node/real_node.ts";
import { startWallet } from "./wallet_process.ts";
import { tempDir } from "../../helpers.ts";

Deno.test("keypoolrefill: every chain watches the new size past its next index, kept across a reload; Core's refusals", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const refused = (code: number, message: string) => ({ error: { code, message } });
  type Descriptor = { desc: string; internal: boolean; range: [number, number]; next: number };

  assertEquals(await call("createwallet", ["k"]), { name: "k" });
  const wallet = async (method: string, params: unknown[] = []) => await call(method, params, "k");
  await wallet("getnewaddress", ["", "bech32m"]);
  assertEquals(await wallet("getwalletinfo").then((i) => i.keypoolsize), 4 * 100 - 1);

  // The address 130 past the next one on the bech32 chain: not watched yet.
  const wpkh = (await call("listdescriptors", [], "k")).descriptors
    .find((d: Descriptor) => d.desc.startsWith("wpkh(") && !d.internal) as Descriptor;
  const [far] = await call("deriveaddresses", [wpkh.desc, [130, 130]]);
  assertEquals((await wallet("getaddressinfo", [far])).ismine, false);

  assertEquals(await wallet("keypoolrefill", [150]), null);
  assertEquals(await call("getwalletinfo", [], "k").then((i) => i.keypoolsize), 4 * 150);
  assertEquals(
    await call("getwalletinfo", [], "k").then((i) => i.keypoolsize_hd_internal),
    4 * 150,
  );
  assertEquals((await wallet("getaddressinfo", [far])).ismine, true);
  const ranges = (await call("listdescriptors", [], "k")).descriptors
    .map((d: Descriptor) => [d.desc.slice(0, d.desc.indexOf("(")), d.internal, d.range, d.next]);
  assertEquals(ranges.filter(([kind]: [string]) => kind === "tr"), [
    ["tr", false, [0, 150], 1],
    ["tr", true, [0, 149], 0],
  ]);

  // A coin to it is the wallet's, and marks it used, as Core's MarkUnusedAddresses: the chain's
  // next index moves past it (so it is never handed out) and the pool tops up behind it, to 100
  // past it; the addresses passed over are receiving ones (labelled "").
  const txid = await call("sendtoaddress", [far, 1]);
  assertEquals((await wallet("gettransaction", [txid])).amount, 1);
  const wpkhChain = async () =>
    (await call("listdescriptors", [], "k")).descriptors
      .filter((d: Descriptor) => d.desc.startsWith("wpkh(") && !d.internal)
      .map((d: Descriptor) => [d.range, d.next]);
  assertEquals(await wpkhChain(), [[[0, 230], 131]]);
  assertEquals(await call("getwalletinfo", [], "k").then((i) => i.keypoolsize), 3 * 150 + 100);
  assertEquals(await wallet("getaddressesbylabel", [""]).then((a) => Object.keys(a).length), 132);
  const [next] = await call("deriveaddresses", [wpkh.desc, [131, 131]]);
  assertEquals(await wallet("getnewaddress", ["", "bech32"]), next);

  // Handing one out left one fewer; a smaller size leaves the pool as it is, the default tops
  // the bech32 chain back up to 100.
  const keypoolsize = async () => await call("getwalletinfo", [], "k").then((i) => i.keypoolsize);
  assertEquals(await keypoolsize(), 3 * 150 + 99);
  assertEquals(await wallet("keypoolrefill", [10]), null);
  assertEquals(await keypoolsize(), 3 * 150 + 99);
  assertEquals(await wallet("keypoolrefill"), null);
  const before = await keypoolsize();
  assertEquals(before, 3 * 150 + 100);

  // Kept in the wallet's database.
  assertEquals(await wallet("unloadwallet"), {});
  assertEquals(await call("loadwallet", ["k"]), { name: "k" });
  assertEquals(await call("getwalletinfo", [], "k").then((i) => i.keypoolsize), before);
  assertEquals(await wpkhChain(), [[[0, 231], 132]]);

  assertEquals(
    await wallet("keypoolrefill", [-1]),
    refused(-8, "Invalid parameter, expected valid size."),
  );
  assertEquals(
    await wallet("keypoolrefill", [10_001]),
    refused(-8, "Invalid parameter, expected a size of at most 10000."),
  );
  assertEquals(await wallet("keypoolrefill", [1.5]), refused(-1, "JSON integer out of range"));

  // Locked: refused after the size is read, as Core orders it.
  await wallet("encryptwallet", ["secret"]);
  assertEquals(
    await wallet("keypoolrefill", [200]),
    refused(-13, "Error: Please enter the wallet passphrase with walletpassphrase first."),
  );
  assertEquals(
    await wallet("keypoolrefill", [-1]),
    refused(-8, "Invalid parameter, expected valid size."),
  );
  await wallet("walletpassphrase", ["secret", 60]);
  assertEquals(await wallet("keypoolrefill", [120]), null);

  // The largest refill (80,000 keys, tens of seconds here) lets other calls run between its
  // steps, and an unload stops it: what it derived is kept, and it answers that it fell short.
  assertEquals(await call("createwallet", ["big"]), { name: "big" });
  let settled = false;
  const refill = call("keypoolrefill", [10_000], "big").finally(() => settled = true);
  assertEquals(await call("getbalance", [], "big"), 0);
  assertEquals(settled, false, "getbalance answered before the refill");
  assertEquals(await call("unloadwallet", [], "big"), {});
  assertEquals(await refill, refused(-4, "Error refreshing keypool."));
  assertEquals(await call("loadwallet", ["big"]), { name: "big" });
  const partial = await call("getwalletinfo", [], "big");
  assertEquals(partial.keypoolsize > 400 && partial.keypoolsize < 40_000, true, partial);
  const [firstUnused] = await call("deriveaddresses", [
    (await call("listdescriptors", [], "big")).descriptors
      .find((d: Descriptor) => d.desc.startsWith("wpkh(") && !d.internal).desc,
    [0, 0],
  ]);
  assertEquals(await call("getnewaddress", [], "big"), firstUnused);

  // A wallet without keys has no pool to fill: the default is no change, a size cannot be met.
  assertEquals(await call("createwallet", ["watch", true]), { name: "watch" });
  assertEquals(await call("keypoolrefill", [], "watch"), null);
  assertEquals(
    await call("keypoolrefill", [1], "watch"),
    refused(-4, "Error refreshing keypool."),
  );
  assertEquals(await target.health(), null);
});

Deno.test("-keypool: the pool each chain watches, and keypoolrefill's default; a bad value refused", async () => {
  await using target = await startMethodFuzzTarget([], ["-keypool=20"]);
  const call = target.walletCall;
  assertEquals(await call("createwallet", ["k"]), { name: "k" });
  const info = async () => {
    const { keypoolsize, keypoolsize_hd_internal } = await call("getwalletinfo", [], "k");
    return [keypoolsize, keypoolsize_hd_internal];
  };
  assertEquals(await info(), [4 * 20, 4 * 20]);
  // The wallet loaded at start too (a few of its addresses were handed out since).
  const atStart = (await call("getwalletinfo", [], "w")).keypoolsize;
  assert(atStart >= 4 * 19 && atStart <= 4 * 20, `${atStart}`);
  await call("getnewaddress", [], "k");
  assertEquals(await info(), [4 * 20 - 1, 4 * 20], "as Core's, one fewer once one is handed out");
  assertEquals(await call("keypoolrefill", [30], "k"), null);
  assertEquals(await info(), [4 * 30, 4 * 30]);
  assertEquals(await target.health(), null);

  // Past this wallet's bound, the process stops with one line (Core reads any text as a number).
  await using node = await startRealNode({ args: ["-ipcbind=unix"] });
  using dir = tempDir();
  for (const bad of ["10001", "+20000"]) {
    const wallet = startWallet(node, dir.path, [`-keypool=${bad}`], { stderr: "piped" });
    const [status, stderr] = await Promise.all([
      wallet.status,
      new Response(wallet.stderr).text(),
    ]);
    assert(!status.success, bad);
    assert(
      stderr.includes(`Invalid -keypool=${bad}: at most 10000 keys here`),
      stderr,
    );
  }
});
