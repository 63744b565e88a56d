/**
 * The wallet options that shape what a wallet makes (`-addresstype`,
 * `-avoidpartialspends`, `-changetype`, `-consolidatefeerate`,
 * `-discardfee`, `-maxapsfee`, `-mintxfee`, `-maxtxfee`, `-spendzeroconfchange`, `-walletrbf`,
 * `-walletbroadcast`, `-walletrejectlongchains`) and the node's `-dustrelayfee`, which the wallet
 * asks the node for: on the real node running its wallet, as bitcoind's
 * are; bad values refuse each wallet load and creation with Core's
 * one-line errors, values set very high are warned about at each load; a wallet process reads the
 * same options, and checks them against its node at each load.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { tempDir, waitFor } from "../../helpers.ts";
import { dataGrants, runOnce } from "../node/node_process.ts";
import { rejects, RpcCallError, startRealNode } from "../node/real_node.ts";
import { startWallet } from "./wallet_process.ts";
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
  // As Core's, the fee is reckoned on the largest size the signatures may take: a signature a
  // byte shorter (one in 256) leaves the transaction a vbyte under it.
  const paid = Math.round(-fee * 1e8);
  assert(paid === 5 * vsize || paid === 5 * (vsize + 1), `${paid} sat for ${vsize} vB`);
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

Deno.test("wallet policy: a bad value refuses each wallet creation and load with Core's one-line error (the first bad one in Core's order) while the node runs on; a wallet to load at start stops it; -disablewallet reads none", async () => {
  for (
    const [arg, message] of [
      ["-addresstype=p2wpkh", "Unknown address type 'p2wpkh'"],
      ["-changetype=segwit", "Unknown change type 'segwit'"],
      // Core's GetArg: a negation reads as "0", no value as "".
      ["-noaddresstype", "Unknown address type '0'"],
      ["-mintxfee", "Invalid amount for -mintxfee=<amount>: ''"],
      ["-mintxfee=0", "Invalid amount for -mintxfee=<amount>: '0'"],
      ["-fallbackfee=abc", "Invalid amount for -fallbackfee=<amount>: 'abc'"],
      ["-maxtxfee=abc", "Invalid amount for -maxtxfee=<amount>: 'abc'"],
      ["-discardfee=abc", "Invalid amount for -discardfee=<amount>: 'abc'"],
      ["-consolidatefeerate=1e-3", "Invalid amount for -consolidatefeerate=<amount>: '1e-3'"],
      // -1 is "never"; no other amount below 0 is one.
      ["-maxapsfee=-2", "Invalid amount for -maxapsfee=<amount>: '-2'"],
      ["-paytxfee=abc", "Invalid amount for -paytxfee=<amount>: 'abc'"],
      [
        "-paytxfee=0.00000099",
        "Invalid amount for -paytxfee=<amount>: '0.00000099' (must be at least 0.00000100 BTC/kvB)",
      ],
      [
        "-maxtxfee=0.00000099",
        "Invalid amount for -maxtxfee=<amount>: '0.00000099' (must be at least the minrelay fee of 0.00000100 BTC/kvB to prevent stuck transactions)",
      ],
    ]
  ) {
    await using node = await startRealNode({ module: MONOLITHIC, args: ["-monolithic", arg] });
    const error = await node.call("createwallet", ["x"]).catch((e) => e);
    assertEquals([error.code, error.message], [-4, `Wallet creation failed. ${message}`], arg);
    assertEquals((await node.call("listwalletdir")).wallets, [], "nothing made");
  }
  using temp = tempDir("wallet_policy_");
  {
    // A wallet made with good options, for a load under bad ones.
    await using _made = await startRealNode({
      datadir: temp.path,
      module: MONOLITHIC,
      args: ["-monolithic", "-wallet=w"],
    });
  }
  // Several bad: CWallet::Create's order (address type, change type, -mintxfee, -maxapsfee,
  // -fallbackfee, -discardfee, -maxtxfee, -consolidatefeerate) says which.
  const bad = ["-consolidatefeerate=x", "-discardfee=y", "-fallbackfee=z", "-maxapsfee=w"];
  const first = "Invalid amount for -maxapsfee=<amount>: 'w'";
  {
    await using node = await startRealNode({
      datadir: temp.path,
      module: MONOLITHIC,
      args: ["-monolithic", ...bad],
    });
    const error = await node.call("loadwallet", ["w"]).catch((e) => e);
    assertEquals([error.code, error.message], [-4, `Wallet loading failed. ${first}`]);
    assertEquals(await node.call("listwallets"), []);
    // A file that is no wallet's is refused as such first (Core's MakeWalletDatabase comes
    // before CWallet::Create), by loadwallet and restorewallet alike.
    const junk = `${temp.path}/regtest/wallets/junk`;
    Deno.mkdirSync(junk);
    Deno.writeTextFileSync(`${junk}/wallet.dat`, "no database\n".repeat(100));
    const unrecognized = (name: string) => [
      -18,
      `Wallet file verification failed. Failed to load database path '${temp.path}/regtest/wallets/${name}'. Data is not in recognized format.`,
    ];
    const junkLoad = await node.call("loadwallet", ["junk"]).catch((e) => e);
    assertEquals([junkLoad.code, junkLoad.message], unrecognized("junk"));
    const restored = await node.call("restorewallet", ["r", `${junk}/wallet.dat`]).catch((e) => e);
    assertEquals([restored.code, restored.message], unrecognized("r"));
    Deno.removeSync(junk, { recursive: true });
  }
  const outcome = await runOnce(
    ["-regtest", `-datadir=${temp.path}`, "-server=0", "-monolithic", "-wallet=w", ...bad],
    dataGrants(temp.path),
    { module: MONOLITHIC },
  );
  // In Core's words, as LoadWallets' init error (no "Wallet loading failed." there).
  assertEquals([outcome.code, outcome.stderr], [1, `Error: ${first}\n`]);
  // A wallet settings.json loads at start stops it too; one no longer on disk is skipped.
  {
    await using node = await startRealNode({
      datadir: temp.path,
      module: MONOLITHIC,
      args: ["-monolithic"],
    });
    await node.call("loadwallet", ["w", true]);
    await node.call("createwallet", ["gone", false, false, "", false, true, true]);
  }
  const settings = await runOnce(
    ["-regtest", `-datadir=${temp.path}`, "-server=0", "-monolithic", ...bad],
    dataGrants(temp.path),
    { module: MONOLITHIC },
  );
  assertEquals([settings.code, settings.stderr], [1, `Error: ${first}\n`]);
  Deno.removeSync(`${temp.path}/regtest/wallets/w`, { recursive: true });
  Deno.removeSync(`${temp.path}/regtest/wallets/gone`, { recursive: true });
  {
    await using node = await startRealNode({
      datadir: temp.path,
      module: MONOLITHIC,
      args: ["-monolithic", ...bad],
    });
    assertEquals(await node.call("listwallets"), []);
  }
  // Without wallets nothing reads them, as Core's WalletInit does not.
  await using node = await startRealNode({ args: ["-disablewallet", ...bad] });
  assertEquals(await node.call("getblockcount"), 0);
});

Deno.test("wallet policy: a wallet process reads the options the node hands it, and an attached one its own", () => {
  const node = [
    "-rpcport=1",
    "-addresstype=legacy",
    "-nospendzeroconfchange",
    "-maxtxfee=0.5",
    "-consolidatefeerate=0.0003",
    "-nowalletrejectlongchains",
  ];
  const handed = walletArgs(node);
  assertEquals(handed, [
    "-addresstype=legacy",
    "-nospendzeroconfchange",
    "-maxtxfee=0.5",
    "-consolidatefeerate=0.0003",
    "-nowalletrejectlongchains",
  ]);
  // The node's -mocktime goes to its wallet processes too; an attached one takes its own.
  assertEquals(walletArgs(["-mocktime=1700000000"]), ["-mocktime=1700000000"]);
  assertEquals(parseWalletArgs(["-mocktime=1700000000"]).mockTime, 1_700_000_000);
  assertThrows(
    () => parseWalletArgs(["-mocktime=-1"]),
    RangeError,
    "Mocktime must be in the range [0, 9223372036], not -1.",
  );
  // -blocksonly's parameter interaction: the node's wallets do not broadcast.
  assertEquals(walletArgs(["-blocksonly"], { broadcast: false }), ["-walletbroadcast=0"]);
  assertEquals(parseWalletArgs(handed).policy, {
    addressType: "legacy",
    changeType: null,
    minTxFee: 1000n,
    fallbackFee: 0n,
    payTxFee: 0n,
    maxTxFee: 50_000_000n,
    discardFee: 10_000n,
    consolidateFeeRate: 30_000n,
    avoidPartialSpends: false,
    maxApsFee: 0n,
    spendZeroConfChange: false,
    rbf: true,
    broadcast: true,
    rejectLongChains: false,
  });
  assertEquals(attachedWalletArgs(["-changetype=bech32m", "-mintxfee=0.00003"]), [
    "-changetype=bech32m",
    "-mintxfee=0.00003",
  ]);
  // Core's -noname=0 is name=1.
  assertEquals(parseWalletArgs(["-nospendzeroconfchange=0"]).policy.spendZeroConfChange, true);
  assertEquals(parseWalletArgs(["-walletrbf=0"]).policy.rbf, false);
  assertEquals(parseWalletArgs([]).policy.rejectLongChains, true);
  assertEquals(parseWalletArgs(["-walletrejectlongchains=0"]).policy.rejectLongChains, false);
  assertEquals(parseWalletArgs(["-nowalletrejectlongchains=0"]).policy.rejectLongChains, true);
  assertEquals(attachedWalletArgs(["-walletrejectlongchains=0"]), ["-walletrejectlongchains=0"]);
  assertEquals(attachedWalletArgs(["-walletrbf=0", "-nowalletbroadcast"]), [
    "-walletrbf=0",
    "-nowalletbroadcast",
  ]);
  assertThrows(
    () => attachedWalletArgs(["-datadir=x"]),
    Error,
    "-datadir=x: not an option of an attached wallet (-wallet, -walletnotify, -keypool, -mocktime, -addresstype, -avoidpartialspends, -changetype, -consolidatefeerate, -discardfee, -fallbackfee, -maxapsfee, -maxtxfee, -mintxfee, -paytxfee, -spendzeroconfchange, -walletrbf, -walletbroadcast, -walletrejectlongchains, -rpcport,",
  );
});

/** Calls `method` of wallet `wallet` on `node` (its `/wallet/<name>` endpoint). */
async function walletCall(
  node: {
    raw(body: string, path?: string): Promise<{ body: { result: unknown; error: unknown } }>;
  },
  wallet: string,
  method: string,
  params: unknown[] | Record<string, unknown> = [],
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const { body } = await node.raw(
    JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    `/wallet/${wallet}`,
  );
  if (body.error) throw new Error(JSON.stringify(body.error));
  return body.result;
}

/**
 * A wallet "r" on `node` holding three coins: 3 and 1 BTC paid to one
 * address, 2 BTC to another (from wallet "w", which mined them).
 */
async function threeCoins(node: Awaited<ReturnType<typeof startRealNode>>) {
  await node.call("generatetoaddress", [101, await walletCall(node, "w", "getnewaddress")]);
  await node.call("createwallet", ["r"]);
  const shared: string = await walletCall(node, "r", "getnewaddress");
  const other: string = await walletCall(node, "r", "getnewaddress");
  await walletCall(node, "w", "sendmany", ["", { [shared]: 3, [other]: 2 }]);
  await walletCall(node, "w", "sendtoaddress", [shared, 1]);
  await node.call("generatetoaddress", [1, ELSEWHERE]);
  /** The addresses the inputs of `txid` spent coins of. */
  const spentFrom = async (txid: string) => {
    const { vin } = await node.call("getrawtransaction", [txid, true]);
    const from = [];
    for (const input of vin) {
      const { decoded } = await walletCall(node, "r", "gettransaction", [input.txid, false, true]);
      from.push(decoded.vout[input.vout].scriptPubKey.address);
    }
    return from.sort();
  };
  return { shared, other, spentFrom };
}

Deno.test("wallet policy: avoided partial spends, as Core's CreateTransaction weighs them, and -maxapsfee", async () => {
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: ["-monolithic", "-wallet=w", "-fallbackfee=0.0002"],
  });
  const { shared, other, spentFrom } = await threeCoins(node);
  // 3.5 BTC: the coins closest above it are the shared address's 3 and 1 BTC, the same set as
  // its group: spent together, for the same fee.
  const together = await walletCall(node, "r", "sendtoaddress", [ELSEWHERE, 3.5]);
  assertEquals(await spentFrom(together), [shared, shared]);
  await node.call("generatetoaddress", [1, ELSEWHERE]);
  // Paid again. The 3 BTC coin meets 2.999977 BTC with no change (Branch and Bound: its 1,360
  // sat input and 840 sat of outputs at 20 sat/vB, 100 over); with the 1 BTC coin beside it there
  // is change and an input more, which -maxapsfee (0) does not allow: the partial spend is made.
  await walletCall(node, "w", "sendmany", ["", { [shared]: 3 }]);
  await walletCall(node, "w", "sendtoaddress", [shared, 1]);
  await node.call("generatetoaddress", [1, ELSEWHERE]);
  const alone = await walletCall(node, "r", "sendtoaddress", [ELSEWHERE, 2.999977]);
  assertEquals(await spentFrom(alone), [shared]);
  assertEquals((await walletCall(node, "r", "gettransaction", [alone])).fee, -0.000023);
  void other;
  // Core's default discard rate, 10 sat/vB: 700 sat of P2WPKH change is dust at it (980 sat).
  assertEquals(await changeOf700(node), { outputs: 1, fee: 841 });
});

Deno.test("wallet policy: -avoidpartialspends spends an address's coins together whatever it costs; -maxapsfee allows what it may cost more; -discardfee", async () => {
  // 2.5 BTC: the shared address's coins pay together (its 3 BTC coin would alone). 2.9999634
  // BTC: the 2 BTC and the shared address's 1 BTC coins meet it with no change (two 1,360 sat
  // inputs, 840 sat of outputs, 100 over); the shared address's coins together make change and
  // cost 500 sat more.
  const cases: [string[], number, "together" | "apart", { outputs: number; fee: number }][] = [
    [["-avoidpartialspends", "-maxapsfee=-1", "-discardfee=0.00003"], 2.5, "together", {
      outputs: 2,
      fee: 141,
    }],
    // A discard rate under the dust relay fee (3 sat/vB) is taken as that.
    [["-maxapsfee=0.0001", "-discardfee=0.00001"], 2.9999634, "together", {
      outputs: 2,
      fee: 141,
    }],
    // -1: never built the other way; negated: Core's default.
    [["-maxapsfee=-1", "-nodiscardfee"], 2.9999634, "apart", { outputs: 2, fee: 141 }],
    [["-discardfee=0.00003"], 2.9999634, "apart", { outputs: 2, fee: 141 }],
  ];
  for (const [args, amount, spent, discard] of cases) {
    await using node = await startRealNode({
      module: MONOLITHIC,
      args: ["-monolithic", "-wallet=w", "-fallbackfee=0.0002", ...args],
    });
    const { shared, other, spentFrom } = await threeCoins(node);
    const txid = await walletCall(node, "r", "sendtoaddress", [ELSEWHERE, amount]);
    assertEquals(
      await spentFrom(txid),
      spent === "together" ? [shared, shared] : [other, shared].sort(),
      args.join(" "),
    );
    assertEquals(await changeOf700(node), discard, args.join(" "));
  }
});

Deno.test("wallet policy: -consolidatefeerate, the long-term rate coin selection weighs spending more coins now against", async () => {
  // 0.5 BTC at 20 sat/vB: X alone, and Y with Z, meet it with no change, 100 sat over (the
  // payment's 42 vB and 68 vB per input). Under the default long-term rate (10 sat/vB) each input
  // spent now costs more than later: X. Under 30 sat/vB it costs less: Y and Z, consolidated.
  for (
    const [args, spent, fee] of [[[], ["x"], 2_300], [
      ["-consolidatefeerate=0.0003"],
      ["y", "z"],
      3_660,
    ]] as const
  ) {
    await using node = await startRealNode({
      module: MONOLITHIC,
      args: ["-monolithic", "-wallet=w", "-fallbackfee=0.0002", ...args],
    });
    await node.call("generatetoaddress", [101, await walletCall(node, "w", "getnewaddress")]);
    await node.call("createwallet", ["c"]);
    const coins: Record<string, string> = {};
    for (const name of ["x", "y", "z"]) coins[name] = await walletCall(node, "c", "getnewaddress");
    await walletCall(node, "w", "sendmany", ["", {
      [coins.x]: 0.500023,
      [coins.y]: 0.2,
      [coins.z]: 0.3000366,
    }]);
    await node.call("generatetoaddress", [1, ELSEWHERE]);
    const txid = await walletCall(node, "c", "sendtoaddress", {
      address: ELSEWHERE,
      amount: 0.5,
      fee_rate: 20,
    });
    const { decoded } = await walletCall(node, "c", "gettransaction", [txid, false, true]);
    const from = [];
    for (const input of decoded.vin) {
      const funding = await walletCall(node, "c", "gettransaction", [input.txid, false, true]);
      const address = funding.decoded.vout[input.vout].scriptPubKey.address;
      from.push(Object.keys(coins).find((name) => coins[name] === address));
    }
    assertEquals([from.sort(), decoded.vout.length], [spent, 1], args.join(" "));
    assertEquals(
      Math.round(-(await walletCall(node, "c", "gettransaction", [txid])).fee * 1e8),
      fee,
    );
  }
});

/**
 * Pays from a new wallet "d" holding one coin of 1 BTC what leaves 700 sat
 * of change at 1 sat/vB (a 141 vB transaction with change; 110 vB without),
 * and tells how many outputs it made and its fee in satoshis.
 */
async function changeOf700(node: Awaited<ReturnType<typeof startRealNode>>) {
  await node.call("createwallet", ["d"]);
  await walletCall(node, "w", "sendtoaddress", [await walletCall(node, "d", "getnewaddress"), 1]);
  await node.call("generatetoaddress", [1, ELSEWHERE]);
  const txid = await walletCall(node, "d", "sendtoaddress", {
    address: ELSEWHERE,
    amount: 0.99999159,
    fee_rate: 1,
  });
  const { vout } = await node.call("getrawtransaction", [txid, true]);
  const { fee } = await walletCall(node, "d", "gettransaction", [txid]);
  return { outputs: vout.length, fee: Math.round(-fee * 1e8) };
}

Deno.test("wallet policy: values set very high are warned about at each wallet load, in Core's words and order", async () => {
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: [
      "-monolithic",
      "-wallet=w",
      "-maxtxfee=2",
      "-discardfee=0.02",
      "-maxapsfee=0.001",
      "-fallbackfee=0.02",
    ],
  });
  const warnings = [
    "-maxapsfee is set very high! This is the maximum transaction fee you pay (in addition to the normal fee) to prioritize partial spend avoidance over regular coin selection.",
    "-fallbackfee is set very high! This is the transaction fee you may pay when fee estimates are not available.",
    "-discardfee is set very high! This is the transaction fee you may discard if change is smaller than dust at this level",
    "-maxtxfee is set very high! Fees this large could be paid on a single transaction.",
  ];
  assertEquals(await node.call("createwallet", ["x", false, false, ""]), {
    name: "x",
    warnings: ["Empty string given as passphrase, wallet will not be encrypted.", ...warnings],
  });
  await node.call("unloadwallet", ["x"]);
  assertEquals(await node.call("loadwallet", ["x"]), { name: "x", warnings });
  // The wallet loaded at startup said them in the log.
  const log = Deno.readTextFileSync(`${node.datadir}/regtest/debug.log`);
  for (const warning of warnings) assertEquals(log.includes(`"w": Warning: ${warning}`), true);
});

Deno.test("wallet policy: a relay minimum over the default -maxtxfee only warns, as Core checks a -maxtxfee given", async () => {
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: ["-monolithic", "-wallet=w", "-minrelaytxfee=0.2"],
  });
  assertEquals(await node.call("listwallets"), ["w"]);
  assertEquals(await node.call("createwallet", ["x"]), {
    name: "x",
    warnings: [
      "-minrelaytxfee is set very high! The wallet will avoid paying less than the minimum relay fee.",
    ],
  });
});

Deno.test("wallet policy: an attached wallet process refuses a -maxtxfee under its node's relay minimum at each load, in one pass with the other options as Core's CWallet::Create", async () => {
  using wallets = tempDir("wallet_policy_w_");
  await using node = await startRealNode({ args: ["-ipcbind=unix", "-minrelaytxfee=0.0001"] });
  // Core reads -maxtxfee, with its relay check, before -consolidatefeerate.
  const bad = ["-maxtxfee=0.00005", "-consolidatefeerate=abc"];
  const wallet = startWallet(node, wallets.path, bad);
  try {
    const refusal =
      "Invalid amount for -maxtxfee=<amount>: '0.00005' (must be at least the minrelay fee of 0.00010000 BTC/kvB to prevent stuck transactions)";
    // Until the wallet process attaches, the node has no wallet loader to ask.
    let error = new RpcCallError(0, "");
    await waitFor(
      async () => {
        error = await node.call("createwallet", ["x"]).catch((e) => e);
        return !error.message.startsWith("No wallet");
      },
      60_000,
      "the wallet process",
    );
    assertEquals([error.code, error.message], [-4, `Wallet creation failed. ${refusal}`]);
    // Nothing was made.
    assertEquals((await node.call("listwalletdir")).wallets, []);
  } finally {
    wallet.kill("SIGKILL");
    await wallet.status;
  }
  // Given a wallet to load at start, it stops with the same refusal alone (LoadWallets' words).
  const started = startWallet(node, wallets.path, [...bad, "-wallet=w"], { stderr: "piped" });
  const { code, stderr } = await started.output();
  assertEquals(code !== 0, true);
  const text = new TextDecoder().decode(stderr);
  assert(text.includes("wallet: Invalid amount for -maxtxfee=<amount>: '0.00005' (must"), text);
});

Deno.test("wallet policy: -blocksonly, as Core's parameter interactions: the wallet does not broadcast, a 5 MB mempool, no local relay", async () => {
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: ["-monolithic", "-wallet=w", "-fallbackfee=0.0002", "-blocksonly"],
  });
  assertEquals((await node.call("getnetworkinfo")).localrelay, false);
  assertEquals((await node.call("getmempoolinfo")).maxmempool, 5_000_000);
  await node.call("generatetoaddress", [101, await node.call("getnewaddress")]);
  const txid: string = await node.call("sendtoaddress", [ELSEWHERE, 1]);
  assertEquals(await node.call("getrawmempool"), []);
  // The transaction is the wallet's all the same; the node takes it from RPC (Core's "RPC
  // transactions are not affected").
  const { hex } = await node.call("gettransaction", [txid]);
  assertEquals(await node.call("sendrawtransaction", [hex]), txid);
  assertEquals(await node.call("getrawmempool"), [txid]);
});

Deno.test("wallet policy: -paytxfee, deprecated in v30, is the rate a send pays when not given one, with Core's warning at each load, until settxfee sets another", async () => {
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: ["-monolithic", "-paytxfee=0.0002", "-deprecatedrpc=settxfee"],
  });
  const deprecated = "-paytxfee is deprecated and will be fully removed in v31.0.";
  assertEquals((await node.call("createwallet", ["w"])).warnings, [deprecated]);
  assertEquals((await node.call("getwalletinfo")).paytxfee, 0.0002);
  await node.call("generatetoaddress", [101, await node.call("getnewaddress")]);
  const sent = await node.call("sendtoaddress", {
    address: ELSEWHERE,
    amount: 1,
    verbose: true,
  });
  assertEquals(sent.fee_reason, "PayTxFee set");
  const entry = await node.call("getmempoolentry", [sent.txid]);
  assertEquals(Math.round(entry.fees.base * 1e8), Math.ceil(20_000 * entry.vsize / 1000));
  // settxfee changes it until the wallet is loaded again.
  await node.call("settxfee", [0.0003]);
  assertEquals((await node.call("getwalletinfo")).paytxfee, 0.0003);
  await node.call("unloadwallet", ["w"]);
  assertEquals((await node.call("loadwallet", ["w"])).warnings, [deprecated]);
  assertEquals((await node.call("getwalletinfo")).paytxfee, 0.0002);
});
