/**
 * The wallet options that shape what a wallet makes (`-addresstype`,
 * `-changetype`, `-mintxfee`, `-maxtxfee`, `-spendzeroconfchange`,
 * `-walletrbf`, `-walletbroadcast`) and the
 * node's `-dustrelayfee`, which the wallet asks the node for: on the real
 * node running its wallet, as bitcoind's are; bad values refuse to start
 * with Core's one-line errors; a wallet process reads the same options.
 *
 * @module
 */
import { assertEquals, assertThrows } from "../../assert.ts";
import { tempDir } from "../../helpers.ts";
import { dataGrants, runOnce } from "../node/node_process.ts";
import { NODE_MAIN, rejects, startRealNode } from "../node/real_node.ts";
import { parseWalletArgs } from "../../../components/wallet/options.ts";
import { attachedWalletArgs, walletArgs } from "../../../components/wallet/spawned.ts";

const MONOLITHIC = new URL("../../../components/node/monolithic.ts", import.meta.url).pathname;

/** An address of no wallet's: P2WPKH of an all-zero key hash. */
const ELSEWHERE = "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202";

Deno.test("wallet policy: the real node's wallet takes -addresstype, -changetype, -mintxfee, -maxtxfee, -spendzeroconfchange, -walletrbf and the node's -dustrelayfee", async () => {
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: [
      "-monolithic",
      "-wallet=w",
      "-fallbackfee=0.0002",
      "-addresstype=bech32m",
      "-changetype=legacy",
      "-mintxfee=0.00002",
      "-maxtxfee=0.0001",
      "-nospendzeroconfchange",
      "-dustrelayfee=0.0001",
      "-walletrbf=0",
    ],
  });
  const address: string = await node.call("getnewaddress");
  assertEquals((await node.call("getaddressinfo", [address])).witness_version, 1);
  const change: string = await node.call("getrawchangeaddress");
  assertEquals((await node.call("validateaddress", [change])).isscript, false);
  assertEquals((await node.call("validateaddress", [change])).iswitness, false);
  // One mature coin of 50 BTC.
  await node.call("generatetoaddress", [101, address]);

  // -dustrelayfee at 10 sat/vB: 900 sat to a P2WPKH output is dust (98 vB to make and spend).
  await rejects(
    node.call("sendtoaddress", [ELSEWHERE, 0.000009]),
    -6,
    "Transaction amount too small",
  );
  // -mintxfee at 2 sat/vB: an explicit 1.5 is refused, naming the setting.
  await rejects(
    node.call("sendtoaddress", {
      address: ELSEWHERE,
      amount: 1,
      fee_rate: 1.5,
    }),
    -6,
    "Fee rate (1.500 sat/vB) is lower than the minimum fee rate setting (2.000 sat/vB)",
  );
  // -maxtxfee at 10,000 sat: 100 sat/vB on a ~150 vB transaction is over it.
  await rejects(
    node.call("sendtoaddress", { address: ELSEWHERE, amount: 1, fee_rate: 100 }),
    -6,
    "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
  );

  const txid: string = await node.call("sendtoaddress", [ELSEWHERE, 1]);
  const tx = await node.call("getrawtransaction", [txid, true]);
  const types = tx.vout.map((output: { scriptPubKey: { type: string } }) =>
    output.scriptPubKey.type
  )
    .sort();
  // The change is legacy, as -changetype says, whatever the payment's type.
  assertEquals(types, ["pubkeyhash", "witness_v0_keyhash"]);
  // -walletrbf=0: no BIP 125 signal unless the call asks for it.
  assertEquals(tx.vin.map((input: { sequence: number }) => input.sequence), [0xfffffffe]);
  const funded = await node.call("fundrawtransaction", [
    await node.call("createrawtransaction", [[], { [ELSEWHERE]: 1 }]),
    { add_inputs: true, include_unsafe: true },
  ]).catch((error) => error);
  // Every coin is unconfirmed change now: even include_unsafe takes none without it.
  assertEquals(funded.message, "Insufficient funds");

  // Without -spendzeroconfchange the unconfirmed change is not spent: the only coin is.
  await rejects(node.call("sendtoaddress", [ELSEWHERE, 1]), -6, "Insufficient funds");
  await node.call("generatetoaddress", [1, ELSEWHERE]);
  const signalled: string = await node.call("sendtoaddress", {
    address: ELSEWHERE,
    amount: 1,
    replaceable: true,
  });
  assertEquals(
    (await node.call("getrawtransaction", [signalled, true])).vin[0].sequence,
    0xfffffffd,
  );
  await node.call("generatetoaddress", [1, ELSEWHERE]);
  const raw = await node.call("createrawtransaction", [[], { [ELSEWHERE]: 1 }]);
  const { hex } = await node.call("fundrawtransaction", [raw]);
  const { vin } = await node.call("decoderawtransaction", [hex]);
  assertEquals(vin.map((input: { sequence: number }) => input.sequence), [0xfffffffe]);
  // A given input too (Core's ConstructTransaction with the wallet's rbf): final, no locktime.
  await node.call("generatetoaddress", [1, ELSEWHERE]);
  const [coin] = await node.call("listunspent");
  const { psbt } = await node.call("walletcreatefundedpsbt", [
    [{ txid: coin.txid, vout: coin.vout }],
    [{ [ELSEWHERE]: 0.1 }],
  ]);
  const decoded = await node.call("decodepsbt", [psbt]);
  assertEquals(decoded.tx.vin[0].sequence, 0xffffffff);
});

Deno.test("wallet policy: -mintxfee raises a fallback fee below it, as Core's GetMinimumFeeRate", async () => {
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: ["-monolithic", "-wallet=w", "-fallbackfee=0.00001", "-mintxfee=0.00005"],
  });
  await node.call("generatetoaddress", [101, await node.call("getnewaddress")]);
  const sent = await node.call("sendtoaddress", { address: ELSEWHERE, amount: 1, verbose: true });
  assertEquals(sent.fee_reason, "Minimum Required Fee");
  const { vsize } = await node.call("getrawtransaction", [sent.txid, true]);
  const { fee } = await node.call("gettransaction", [sent.txid]);
  assertEquals(Math.round(-fee * 1e8), 5 * vsize);
});

Deno.test("wallet policy: -walletbroadcast=0 records what the wallet sends without offering it to the mempool, at the send or at load", async () => {
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: ["-monolithic", "-wallet=w", "-fallbackfee=0.0002", "-walletbroadcast=0"],
  });
  await node.call("generatetoaddress", [101, await node.call("getnewaddress")]);
  const txid: string = await node.call("sendtoaddress", [ELSEWHERE, 1]);
  assertEquals(await node.call("getrawmempool"), []);
  const { hex, confirmations } = await node.call("gettransaction", [txid]);
  assertEquals(confirmations, 0);
  // Loading the wallet again does not offer it either (Core's resubmission is off too).
  await node.call("unloadwallet", ["w"]);
  await node.call("loadwallet", ["w"]);
  assertEquals(await node.call("getrawmempool"), []);
  // The user broadcasts it; the wallet follows.
  assertEquals(await node.call("sendrawtransaction", [hex]), txid);
  assertEquals(await node.call("getrawmempool"), [txid]);
  await node.call("generatetoaddress", [1, ELSEWHERE]);
  assertEquals((await node.call("gettransaction", [txid])).confirmations, 1);
});

Deno.test("wallet policy: a bad value refuses to start with Core's one-line error", async () => {
  using temp = tempDir("wallet_policy_");
  for (
    const [arg, message] of [
      ["-addresstype=p2wpkh", "Unknown address type 'p2wpkh'"],
      ["-changetype=segwit", "Unknown change type 'segwit'"],
      // Core's GetArg: a negation reads as "0", no value as "".
      ["-noaddresstype", "Unknown address type '0'"],
      ["-mintxfee", "Invalid amount for -mintxfee=<amount>: ''"],
      ["-mintxfee=0", "Invalid amount for -mintxfee=<amount>: '0'"],
      ["-maxtxfee=abc", "Invalid amount for -maxtxfee=<amount>: 'abc'"],
      [
        "-maxtxfee=0.00000099",
        "Invalid amount for -maxtxfee=<amount>: '0.00000099' (must be at least the minrelay fee of 0.00000100 BTC/kvB to prevent stuck transactions)",
      ],
    ]
  ) {
    const outcome = await runOnce(
      ["-regtest", `-datadir=${temp.path}`, "-server=0", arg],
      dataGrants(temp.path),
      { module: NODE_MAIN },
    );
    assertEquals([outcome.code, outcome.stderr], [1, `Error: ${message}\n`], arg);
  }
});

Deno.test("wallet policy: a wallet process reads the options the node hands it, and an attached one its own", () => {
  const node = ["-rpcport=1", "-addresstype=legacy", "-nospendzeroconfchange", "-maxtxfee=0.5"];
  const handed = walletArgs(node);
  assertEquals(handed, ["-addresstype=legacy", "-nospendzeroconfchange", "-maxtxfee=0.5"]);
  assertEquals(parseWalletArgs(handed).policy, {
    addressType: "legacy",
    changeType: null,
    minTxFee: 1000n,
    maxTxFee: 50_000_000n,
    spendZeroConfChange: false,
    rbf: true,
    broadcast: true,
  });
  assertEquals(attachedWalletArgs(["-changetype=bech32m", "-mintxfee=0.00003"]), [
    "-changetype=bech32m",
    "-mintxfee=0.00003",
  ]);
  // Core's -noname=0 is name=1.
  assertEquals(parseWalletArgs(["-nospendzeroconfchange=0"]).policy.spendZeroConfChange, true);
  assertEquals(parseWalletArgs(["-walletrbf=0"]).policy.rbf, false);
  assertEquals(attachedWalletArgs(["-walletrbf=0", "-nowalletbroadcast"]), [
    "-walletrbf=0",
    "-nowalletbroadcast",
  ]);
  assertThrows(
    () => attachedWalletArgs(["-datadir=x"]),
    Error,
    "-datadir=x: not an option of an attached wallet (-wallet, -walletnotify, -fallbackfee, -keypool, -addresstype, -changetype, -maxtxfee, -mintxfee, -spendzeroconfchange, -walletrbf, -walletbroadcast, -rpcport,",
  );
});
