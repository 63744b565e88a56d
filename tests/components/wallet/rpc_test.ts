/**
 * The wallet process's RPC methods through its `WalletLoader.executeRpc`
 * (what the node forwards), on a real chain: bitcoind's error codes and
 * exact texts (bitcoind-rpc.md §9) and result shapes.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { loadOrCreateWallets, WalletLoaderImpl } from "../../../components/wallet/loader.ts";
import { NOTHING_TO_ENCRYPT } from "../../../components/wallet/wallet.ts";
import { testNode } from "./chain_fixture.ts";
import { hashToHex, txid } from "../../../components/node/chain/mod.ts";
import {
  NO_WALLET_LOADED,
  WALLET_NOT_FOUND,
  WALLET_NOT_SPECIFIED,
} from "../../../components/rpc/wallet_choice.ts";
import { DatabaseSync } from "node:sqlite";
import { hex } from "@scure/base";
import { Transaction } from "@scure/btc-signer";

Deno.test("wallet rpc: bitcoind's errors and shapes", async () => {
  using node = testNode();
  await using loader = new WalletLoaderImpl(`${node.dir}/wd`, node.makeChain(), {});
  const call = async (method: string, params: unknown[] = [], wallet?: string) =>
    JSON.parse(await loader.executeRpc(method, JSON.stringify(params), wallet));
  const error = async (method: string, params: unknown[], wallet?: string) =>
    (await call(method, params, wallet)).error;
  const dir = `${node.dir}/wd/wallets`;

  // A request naming no wallet (the node routes it here unnamed) means the only one loaded.
  assertEquals(await error("getbalance", []), { code: -18, message: NO_WALLET_LOADED });
  assertEquals(await call("createwallet", ["w"]), { result: { name: "w" } });
  assertEquals(await call("getbalance", []), { result: 0 });
  assertEquals(await error("getbalance", [], "nosuch"), { code: -18, message: WALLET_NOT_FOUND });
  assertEquals(await error("createwallet", ["w"]), {
    code: -4,
    message:
      `Wallet file verification failed. Failed to create database path '${dir}/w'. Database already exists.`,
  });
  assertEquals(await error("loadwallet", ["nosuch"]), {
    code: -18,
    message:
      `Wallet file verification failed. Failed to load database path '${dir}/nosuch'. Path does not exist.`,
  });
  assertEquals(await error("loadwallet", ["w"]), {
    code: -35,
    message: 'Wallet "w" is already loaded.',
  });
  // A name past the file system's limit: Core's MakeWalletDatabase, not an internal error (the
  // method fuzzer's seed 251 found it).
  const long = "x".repeat(300);
  // loadwallet's catch answers -4, createwallet has none: the RPC server's -1.
  for (const [method, code] of [["loadwallet", -4], ["createwallet", -1]] as const) {
    assertEquals(await error(method, [long]), {
      code,
      message: `filesystem error: cannot get symlink status: File name too long [${dir}/${long}]`,
    });
  }
  assertEquals(await error("getnewaddress", ["", "foo"], "w"), {
    code: -5,
    message: "Unknown address type 'foo'",
  });
  assertEquals(await error("getnewaddress", ["*"], "w"), {
    code: -11,
    message: "Invalid label name",
  });
  const address = (await call("getnewaddress", [], "w")).result;
  const info = (await call("getaddressinfo", [address], "w")).result;
  node.mine(101, hexBytes(info.scriptPubKey));
  assertEquals((await call("getbalance", [], "w")).result, 50);
  assertEquals(await error("sendtoaddress", ["notanaddress", 100_000_000], "w"), {
    code: -5,
    message: "Invalid Bitcoin address: notanaddress",
  });
  assertEquals(await error("sendtoaddress", [address, 100_000_000], "w"), {
    code: -6,
    message:
      "Fee estimation failed. Fallbackfee is disabled. Wait a few blocks or enable -fallbackfee.",
  });
  assertEquals(await error("sendtoaddress", [address, 100], "w"), {
    code: -6,
    message: "Transaction amount too small",
  });
  assertEquals(
    await error("sendtoaddress", [
      address,
      6_000_000_000,
      null,
      null,
      false,
      null,
      null,
      null,
      null,
      1000,
    ], "w"),
    {
      code: -6,
      message: "Insufficient funds",
    },
  );
  const verbose = await call("sendtoaddress", [
    address,
    100_000_000,
    null,
    null,
    false,
    null,
    null,
    null,
    null,
    2000,
    true,
  ], "w");
  assertEquals(verbose.result.fee_reason, "PayTxFee set");
  assertEquals(await error("sendmany", ["", [[address, 1000000], [address, 1000000]]], "w"), {
    code: -8,
    message: `Invalid parameter, duplicated address: ${address}`,
  });
  assertEquals(await error("walletlock", [], "w"), {
    code: -15,
    message: "Error: running with an unencrypted wallet, but walletlock was called.",
  });
  assertEquals(await error("walletpassphrasechange", ["a", "b"], "w"), {
    code: -15,
    message: "Error: running with an unencrypted wallet, but walletpassphrasechange was called.",
  });
  assertEquals(await error("encryptwallet", [""], "w"), {
    code: -8,
    message: "passphrase cannot be empty",
  });
  assertEquals(await error("rescanblockchain", [5000], "w"), {
    code: -8,
    message: "Invalid start_height",
  });
  assertEquals(await error("rescanblockchain", [10, 5], "w"), {
    code: -8,
    message: "stop_height must be greater than start_height",
  });
  assertEquals((await call("rescanblockchain", [100, 101], "w")).result, {
    start_height: 100,
    stop_height: 101,
  });
  assertEquals(await error("gettransaction", ["ab".repeat(32)], "w"), {
    code: -5,
    message: "Invalid or non-wallet transaction id",
  });
  const listed = (await call("listtransactions", ["*", 3], "w")).result;
  assertEquals(listed.length, 3);
  // The send to its own address: a send entry, then a receive entry.
  assertEquals(listed.slice(1).map((e: { category: string }) => e.category), ["send", "receive"]);
  assertEquals(Object.keys(listed[0]).slice(0, 8), [
    "address",
    "parent_descs",
    "category",
    "amount",
    "label",
    "vout",
    "abandoned",
    "confirmations",
  ]);
  const descriptors = (await call("listdescriptors", [], "w")).result.descriptors;
  // Core's eight, sorted by their text: pkh, sh(wpkh), tr, wpkh; external, then internal.
  assertEquals(
    descriptors.map((d: { desc: string; internal: boolean }) =>
      `${d.desc.slice(0, d.desc.indexOf("["))}${d.internal ? 1 : 0}`
    ),
    ["pkh(0", "pkh(1", "sh(wpkh(0", "sh(wpkh(1", "tr(0", "tr(1", "wpkh(0", "wpkh(1"],
  );
  assert(
    descriptors.every((d: { desc: string }) =>
      /#[a-z0-9]{8}$/.test(d.desc) && d.desc.includes("tpub")
    ),
  );
  assertEquals(
    JSON.parse(await loader.executeRpc("encryptwallet", '["pw"]', "w")).result.slice(0, 17),
    "wallet encrypted;",
  );
  assertEquals(await error("listdescriptors", [true], "w"), {
    code: -13,
    message: "Error: Please enter the wallet passphrase with walletpassphrase first.",
  });
  assertEquals(await error("walletpassphrase", ["bad", 10], "w"), {
    code: -14,
    message: "Error: The wallet passphrase entered was incorrect.",
  });
  assertEquals(await error("walletpassphrase", ["pw", -1], "w"), {
    code: -8,
    message: "Timeout cannot be negative.",
  });
  assertEquals(await error("walletpassphrasechange", ["bad", "pw2"], "w"), {
    code: -14,
    message: "Error: The wallet passphrase entered was incorrect.",
  });
  assertEquals(await error("walletpassphrasechange", ["pw", ""], "w"), {
    code: -8,
    message: "passphrase cannot be empty",
  });
  assertEquals(await call("walletpassphrasechange", ["pw", "pw2"], "w"), { result: null });
  assertEquals((await error("walletpassphrase", ["pw", 60], "w")).code, -14); // the old one is gone
  assertEquals(await call("walletpassphrasechange", ["pw2", "pw"], "w"), { result: null });
  assertEquals(await call("walletpassphrase", ["pw", 60], "w"), { result: null });
  assert((await call("getwalletinfo", [], "w")).result.unlocked_until > 0);
  // Past 2^31-1 ms (about 25 days) a plain timer fired at once, and the wallet locked again.
  assertEquals(await call("walletpassphrase", ["pw", 3_000_000], "w"), { result: null });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const until = (await call("getwalletinfo", [], "w")).result.unlocked_until;
  assert(until > Date.now() / 1000 + 2_999_000, `unlocked until ${until}`);
  assert((await call("listdescriptors", [true], "w")).result.descriptors[0].desc.includes("tprv"));
  // Core's refusals come before anything is made: each name is free afterwards.
  const refusals: [unknown[], number, string][] = [
    [
      ["blank", true, true, "pw"],
      -4,
      "Passphrase provided but private keys are disabled. A passphrase is only used to encrypt private keys, so cannot be used for wallets with private keys disabled.",
    ],
    [
      ["blank", false, false, null, false, false],
      -4,
      'descriptors argument must be set to "true"; it is no longer possible to create a legacy wallet.',
    ],
    [
      ["blank", true, false, null, false, true, null, true],
      -4,
      "Compiled without external signing support (required for external signing)",
    ],
  ];
  for (const [params, code, message] of refusals) {
    assertEquals(await error("createwallet", params), { code, message });
  }
  assertEquals(await call("createwallet", ["blank", true, true]), { result: { name: "blank" } });
  // Core's -16 for a wallet without private keys comes before any other check.
  assertEquals(await error("encryptwallet", ["pw"], "blank"), {
    code: -16,
    message: NOTHING_TO_ENCRYPT,
  });
  assertEquals(await call("createwallet", ["open", false, false, ""]), {
    result: {
      name: "open",
      warnings: ["Empty string given as passphrase, wallet will not be encrypted."],
    },
  });
  assertEquals(await call("unloadwallet", [], "open"), { result: {} });
  // In load order, as bitcoind lists them (not sorted: "blank" < "w").
  assertEquals(await call("listwallets"), { result: ["w", "blank"] });
  assertEquals(await error("getbalance", []), { code: -19, message: WALLET_NOT_SPECIFIED });
  assertEquals(await error("getnewaddress", [], "blank"), {
    code: -4,
    message: "Error: This wallet has no available keys",
  });
  assertEquals(await call("unloadwallet", [], "blank"), { result: {} });
  assertEquals(await call("listwallets"), { result: ["w"] });
  // On disk, loaded or not.
  assertEquals(await call("listwalletdir"), {
    result: { wallets: [{ name: "blank" }, { name: "open" }, { name: "w" }] },
  });
});

function hexBytes(text: string): Uint8Array {
  return new Uint8Array(text.match(/../g)!.map((byte) => parseInt(byte, 16)));
}

/**
 * The result of `method` on `loader`'s wallet `wallet` (by default "w"), as
 * the node forwards it; an error thrown with its code.
 */
async function walletCall(
  loader: WalletLoaderImpl,
  method: string,
  params: unknown[] = [],
  wallet = "w",
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const reply = JSON.parse(await loader.executeRpc(method, JSON.stringify(params), wallet));
  if (reply.error) throw Object.assign(new Error(reply.error.message), reply.error);
  return reply.result;
}

Deno.test("wallet rpc: load_on_startup keeps settings.json's list, loaded again at start", async () => {
  using node = testNode();
  const datadir = `${node.dir}/wd`;
  const start = async (names: string[] = []) => {
    const loader = new WalletLoaderImpl(datadir, node.makeChain(), {});
    const lines = await loadOrCreateWallets(loader, names);
    return { loader, lines };
  };
  const call = async (loader: WalletLoaderImpl, method: string, params: unknown[]) =>
    JSON.parse(await loader.executeRpc(method, JSON.stringify(params)));
  {
    await using loader = (await start()).loader;
    // createwallet's 7th argument and loadwallet's 2nd: true remembers, false forgets, none leaves.
    await call(loader, "createwallet", ["kept", false, false, null, false, true, true]);
    await call(loader, "createwallet", ["passing"]);
    await call(loader, "createwallet", ["dropped", false, false, null, false, true, true]);
    await call(loader, "unloadwallet", ["dropped", false]);
    assertEquals(JSON.parse(Deno.readTextFileSync(`${datadir}/settings/settings.json`)), {
      wallet: ["kept"],
    });
  }
  {
    const { loader, lines } = await start(["cli"]);
    await using _ = loader;
    assertEquals(loader.listWallets(), ["cli", "kept"]);
    assertEquals(lines, ['wallet: created wallet "cli"']);
    await call(loader, "loadwallet", ["passing", true]);
  }
  {
    // A wallet listed but gone is said and skipped; the others load.
    Deno.removeSync(`${datadir}/wallets/kept`, { recursive: true });
    const { loader, lines } = await start();
    await using _ = loader;
    assertEquals(loader.listWallets(), ["passing"]);
    assertEquals(lines.length, 1);
    assert(lines[0].startsWith('wallet: "kept" (settings.json) not loaded: '), lines[0]);
  }
  // A broken settings.json is said; nothing is loaded from it, nothing fails, and it is not
  // written over (what it held is the user's to mend).
  Deno.writeTextFileSync(`${datadir}/settings/settings.json`, "{ not json");
  const { loader, lines } = await start();
  await using _ = loader;
  assertEquals(loader.listWallets(), []);
  assert(lines[0].startsWith(`wallet: ${datadir}/settings/settings.json: `), lines.join("\n"));
  const kept = await call(loader, "createwallet", ["later", false, false, null, false, true, true]);
  assertEquals(kept.result.warnings, [
    "Wallet load on startup setting could not be updated, so wallet may not be loaded next node startup.",
  ]);
  assertEquals(Deno.readTextFileSync(`${datadir}/settings/settings.json`), "{ not json");
  // A lone name counts as a list of one, as bitcoind reads it.
  Deno.writeTextFileSync(`${datadir}/settings/settings.json`, '{"wallet": "later", "other": 1}');
  assertEquals(loader.startupWallets().names, ["later"]);
  await call(loader, "unloadwallet", ["later", true]);
  assertEquals(JSON.parse(Deno.readTextFileSync(`${datadir}/settings/settings.json`)), {
    wallet: ["later"],
    other: 1,
  });
  // When the list cannot be written, the wallet is made and loaded all the same, with Core's warning.
  Deno.removeSync(`${datadir}/settings/settings.json`);
  Deno.mkdirSync(`${datadir}/settings/settings.json.new`);
  assertEquals(
    await call(loader, "createwallet", ["unsaved", false, false, null, false, true, true]),
    {
      result: {
        name: "unsaved",
        warnings: [
          "Wallet load on startup setting could not be updated, so wallet may not be loaded next node startup.",
        ],
      },
    },
  );
  assertEquals(loader.listWallets(), ["unsaved"]);
});

Deno.test("wallet rpc: labels, the address book as bitcoind keeps it", async () => {
  using node = testNode();
  const datadir = `${node.dir}/wd`;
  const open = () => new WalletLoaderImpl(datadir, node.makeChain(), {});
  let loader = open();
  const call = (method: string, params: unknown[] = [], wallet = "w") =>
    walletCall(loader, method, params, wallet);
  const error = (method: string, params: unknown[]) =>
    call(method, params).then(() => null, (e) => ({ code: e.code, message: e.message }));
  const labels = async (address: string) => (await call("getaddressinfo", [address])).labels;
  try {
    await call("createwallet", ["w"]);
    await call("createwallet", ["other"]);
    const savings = await call("getnewaddress", ["savings"]);
    const plain = await call("getnewaddress", [], "w");
    const change = await call("getrawchangeaddress");
    const friend = await call("getnewaddress", [], "other");
    const stranger = await call("getnewaddress", [], "other");
    assertEquals(await labels(savings), ["savings"]);
    assertEquals(await labels(plain), [""]);
    assertEquals(await labels(change), []);
    assertEquals(await labels(friend), []); // another wallet's address: not in this book
    assertEquals(await call("listlabels"), ["", "savings"]);
    assertEquals(await call("listlabels", ["send"]), []);
    assertEquals(await call("listlabels", ["refund"]), []);

    assertEquals(await call("setlabel", [friend, "friend"]), null);
    assertEquals(await labels(friend), ["friend"]);
    assertEquals(await call("listlabels", ["send"]), ["friend"]);
    assertEquals(await call("listlabels", ["receive"]), ["", "savings"]);
    assertEquals(await call("getaddressesbylabel", ["friend"]), { [friend]: { purpose: "send" } });
    assertEquals(await call("getaddressesbylabel", ["savings"]), {
      [savings]: { purpose: "receive" },
    });
    assertEquals(await error("getaddressesbylabel", ["nobody"]), {
      code: -11,
      message: "No addresses with label nobody",
    });
    assertEquals(await error("listlabels", ["bogus"]), {
      code: -8,
      message:
        "Invalid 'purpose' argument, must be a known purpose string, typically 'send', or 'receive'.",
    });
    assertEquals(await error("setlabel", ["nope", "x"]), {
      code: -5,
      message: "Invalid Bitcoin address",
    });
    assertEquals(await error("setlabel", [savings, "*"]), {
      code: -11,
      message: "Invalid label name",
    });

    // Ten mature coinbases: the sends below leave some of them unspent.
    node.mine(110, hexBytes((await call("getaddressinfo", [savings])).scriptPubKey));
    const mined = await call("listtransactions", ["savings", 200]);
    assertEquals(mined.length, 110);
    assert(mined.every((e: { label: string; address: string }) => e.label === "savings"));
    assertEquals(await call("listtransactions", ["friend"]), []); // sends never match a label
    assertEquals(await error("listtransactions", [""]), {
      code: -8,
      message: 'Label argument must be a valid label name or "*".',
    });
    // A send's entry carries the destination's label only when the book has it.
    const fee = [null, null, false, null, null, null, null, 2000];
    const toFriend = await call("sendtoaddress", [friend, 100_000_000, ...fee]);
    const toStranger = await call("sendtoaddress", [stranger, 100_000_000, ...fee]);
    const sends = (await call("listtransactions", ["*", 2])) as Record<string, unknown>[];
    assertEquals(sends.map((e) => [e.txid, e.category, e.label]), [
      [toFriend, "send", "friend"],
      [toStranger, "send", undefined],
    ]);
    assert(!("label" in sends[1]), "no label key for an address the book lacks");
    const unspent = (await call("listunspent", [0])) as Record<string, unknown>[];
    const own = unspent.filter((coin) => coin.address === savings);
    assert(own.length > 0 && own.every((coin) => coin.label === "savings"));
    const changeCoins = unspent.filter((coin) => coin.address !== savings);
    assert(changeCoins.length > 0 && changeCoins.every((coin) => !("label" in coin)));

    // Labelled, a change address is change no more (Core's ScriptIsChange: mine, not in the book).
    const changeCoin = changeCoins[0] as { address: string; txid: string };
    assertEquals((await call("getaddressinfo", [changeCoin.address])).ischange, true);
    await call("setlabel", [changeCoin.address, "kept"]);
    assertEquals((await call("getaddressinfo", [changeCoin.address])).ischange, false);
    const shown = (await call("gettransaction", [changeCoin.txid])).details as {
      address: string;
    }[];
    assert(shown.some((entry) => entry.address === changeCoin.address), "its output is listed");

    // A wallet made before the address book: the addresses it handed out get the label "".
    await loader[Symbol.asyncDispose]();
    const db = new DatabaseSync(`${datadir}/wallets/w/wallet.dat`);
    db.exec("DROP TABLE labels");
    db.close();
    loader = open();
    await call("loadwallet", ["w"], "");
    assertEquals(await labels(savings), [""]);
    assertEquals(await labels(plain), [""]);
    assertEquals(await labels(change), []);
    assertEquals(await call("listlabels"), [""]);
  } finally {
    await loader[Symbol.asyncDispose]();
  }
});

Deno.test("wallet rpc: legacy and p2sh-segwit addresses as Core makes them, received and spent through the node's script checks", async () => {
  using node = testNode();
  await using loader = new WalletLoaderImpl(`${node.dir}/wd`, node.makeChain(), {});
  const call = (method: string, params: unknown[] = []) => walletCall(loader, method, params);
  await call("createwallet", ["w"]);
  const legacy = await call("getnewaddress", ["", "legacy"]);
  const wrapped = await call("getnewaddress", ["", "p2sh-segwit"]);
  assert(/^[mn]/.test(legacy) && /^2/.test(wrapped), `${legacy} ${wrapped}`);
  const legacyInfo = await call("getaddressinfo", [legacy]);
  assertEquals(
    [legacyInfo.isscript, legacyInfo.iswitness, legacyInfo.iscompressed, legacyInfo.hdkeypath],
    [false, false, true, "m/44h/1h/0h/0/0"],
  );
  assert(/^pkh\(\[[0-9a-f]{8}\/44h\/1h\/0h\/0\/0\]0[23][0-9a-f]{64}\)#/.test(legacyInfo.desc));
  const wrappedInfo = await call("getaddressinfo", [wrapped]);
  assertEquals(Object.keys(wrappedInfo).slice(7, 13), [
    "isscript",
    "iswitness",
    "script",
    "hex",
    "pubkey",
    "embedded",
  ]);
  assertEquals([wrappedInfo.isscript, wrappedInfo.iswitness, wrappedInfo.script], [
    true,
    false,
    "witness_v0_keyhash",
  ]);
  assertEquals(wrappedInfo.embedded.witness_version, 0);
  assertEquals(wrappedInfo.embedded.pubkey, wrappedInfo.pubkey);
  assert(wrappedInfo.embedded.address.startsWith("bcrt1q"));
  assert(
    wrappedInfo.parent_desc.startsWith("sh(wpkh([") && wrappedInfo.hdkeypath.startsWith("m/49h"),
  );

  // Coinbases to both, matured; then one send spending both kinds of input at once.
  node.mine(1, hexBytes(legacyInfo.scriptPubKey));
  node.mine(1, hexBytes(wrappedInfo.scriptPubKey));
  node.mine(
    100,
    hexBytes((await call("getaddressinfo", [await call("getnewaddress")])).scriptPubKey),
  );
  assertEquals(await call("getbalance"), 100);
  const unspent = await call("listunspent");
  const wrappedCoin = unspent.find((coin: { address: string }) => coin.address === wrapped);
  assertEquals(Object.keys(wrappedCoin).slice(2, 6), [
    "address",
    "label",
    "redeemScript",
    "scriptPubKey",
  ]);
  assertEquals(wrappedCoin.redeemScript, wrappedInfo.hex);
  const to = await call("getnewaddress", ["", "legacy"]);
  const fee = [null, null, false, null, null, null, null, 2000];
  const txid = await call("sendtoaddress", [to, 8_000_000_000, ...fee]);
  const sent = await call("gettransaction", [txid, false, true]);
  assertEquals(sent.decoded.vin.length, 2, "both coins spent: 80 BTC needs them");
  assert(node.mempool.has(txid), "the node's mempool took it: its scripts verified");
  // Its change follows the payment's type, as Core's: a legacy payment, legacy change.
  const outputs = sent.decoded.vout.map((o: { scriptPubKey: { address: string } }) =>
    o.scriptPubKey.address
  );
  assert(outputs.every((address: string) => /^[mn]/.test(address)), outputs.join(" "));
  node.mine(1, hexBytes(legacyInfo.scriptPubKey));
  assertEquals((await call("gettransaction", [txid])).confirmations, 1);
  // A dust payment to a legacy address (546 sat at 3 sat/vB) is refused, as Core refuses it.
  const dust = await call("sendtoaddress", [to, 545, ...fee]).catch((e) => e.message);
  assertEquals(dust, "Transaction amount too small");
  assert(
    /^[0-9a-f]{64}$/.test(await call("sendtoaddress", [to, 546, ...fee])),
    "546 sat is no dust",
  );
});

Deno.test("wallet rpc: signrawtransactionwithwallet on a transaction it owns only in part says per input why", async () => {
  using node = testNode();
  await using loader = new WalletLoaderImpl(`${node.dir}/wd`, node.makeChain(), {});
  const call = (method: string, params: unknown[] = []) => walletCall(loader, method, params);
  await call("createwallet", ["w"]);
  const script = async (type: string) =>
    hexBytes(
      (await call("getaddressinfo", [await call("getnewaddress", ["", type])])).scriptPubKey,
    );
  const [trScript, wpkhScript] = [await script("bech32m"), await script("bech32")];
  node.mine(1, trScript);
  node.mine(1, wpkhScript);
  node.mine(100, await script("bech32"));
  const coinOf = (scriptHex: string) =>
    (call("listunspent") as Promise<{ txid: string; vout: number; scriptPubKey: string }[]>)
      .then((coins) => coins.find((coin) => coin.scriptPubKey === scriptHex)!);
  const foreign = { txid: new Uint8Array(32).fill(9), index: 0 };
  const partly = (own: { txid: string; vout: number }) => {
    const tx = new Transaction({ allowUnknownInputs: true });
    tx.addInput({ txid: own.txid, index: own.vout });
    tx.addInput(foreign);
    tx.addOutput({ script: wpkhScript, amount: 1_000_000n });
    return hex.encode(tx.toBytes(true, false));
  };
  const notFound = "Input not found or already spent";
  // A taproot signature commits to every spent output: with one unknown, it cannot be made.
  const tr = await call("signrawtransactionwithwallet", [
    partly(await coinOf(hex.encode(trScript))),
  ]);
  assertEquals(tr.complete, false);
  assertEquals(tr.errors.map((e: { vout: number; error: string }) => e.error), [
    "Witness program was passed an empty witness",
    notFound,
  ]);
  // A segwit v0 signature does not: the wallet's input is signed, the other one is said.
  const v0 = await call("signrawtransactionwithwallet", [
    partly(await coinOf(hex.encode(wpkhScript))),
  ]);
  assertEquals([v0.complete, v0.errors.length, v0.errors[0].error], [false, 1, notFound]);
  assertEquals(
    Transaction.fromRaw(hex.decode(v0.hex), { allowUnknownInputs: true }).getInput(0)
      .finalScriptWitness?.length,
    2,
  );
});

Deno.test("wallet rpc: getreceivedbyaddress, getreceivedbylabel, lockunspent and listlockunspent as Core's", async () => {
  using node = testNode();
  const open = () => new WalletLoaderImpl(`${node.dir}/wd`, node.makeChain(), {});
  let loader = open();
  const call = (method: string, params: unknown[] = [], wallet = "w") =>
    walletCall(loader, method, params, wallet);
  const error = (method: string, params: unknown[]) =>
    call(method, params).then(() => null, (e) => [e.code, e.message]);
  try {
    await call("createwallet", ["w"]);
    await call("createwallet", ["other"]);
    const tabby = await call("getnewaddress", ["tabby"]);
    const script = hexBytes((await call("getaddressinfo", [tabby])).scriptPubKey);
    node.mine(1, script);
    node.mine(
      100,
      hexBytes((await call("getaddressinfo", [await call("getnewaddress")])).scriptPubKey),
    );
    // One mature coinbase of 50; the immature ones count only when asked.
    assertEquals(await call("getreceivedbyaddress", [tabby]), 50);
    assertEquals(await call("getreceivedbylabel", ["tabby"]), 50);
    assertEquals(await call("getreceivedbylabel", ["", 1, true]), 5000);
    assertEquals(await call("getreceivedbylabel", ["", 1]), 0);
    assertEquals(await error("getreceivedbylabel", ["nobody"]), [-4, "Label not found in wallet"]);
    const foreign = await call("getnewaddress", [], "other");
    assertEquals(await error("getreceivedbyaddress", [foreign]), [
      -4,
      "Address not found in wallet",
    ]);
    assertEquals(await error("getreceivedbyaddress", ["nope"]), [-5, "Invalid Bitcoin address"]);

    const [coin] = await call("listunspent") as { txid: string; vout: number }[];
    const outpoint = { txid: coin.txid, vout: coin.vout };
    assertEquals(await call("lockunspent", [false, [outpoint], true]), true);
    assertEquals(await call("listlockunspent"), [outpoint]);
    assertEquals(await call("listunspent"), []); // a locked coin is not available
    assertEquals(await error("lockunspent", [false, [outpoint]]), [
      -8,
      "Invalid parameter, output already locked",
    ]);
    const fee = [null, null, false, null, null, null, null, 2000];
    assertEquals(await error("sendtoaddress", [foreign, 100_000_000, ...fee]), [
      -6,
      "Insufficient funds",
    ]);
    assertEquals(await error("lockunspent", [false, [{ txid: "ab".repeat(32), vout: 0 }]]), [
      -8,
      "Invalid parameter, unknown transaction",
    ]);
    assertEquals(await error("lockunspent", [false, [{ ...outpoint, vout: 99 }]]), [
      -8,
      "Invalid parameter, vout index out of bounds",
    ]);
    assertEquals(await error("lockunspent", [false, [{ txid: "xyz", vout: 0 }]]), [
      -8,
      "txid must be of length 64 (not 3, for 'xyz')",
    ]);
    // Each output as Core's get_obj, RPCTypeCheckObj and getInt<int> read it. A vout of "x" or
    // 1.5 used to lock `<txid>:NaN` or `<txid>:1.5`, which listlockunspent then gave as null.
    const typeErrors: [unknown, number, string][] = [
      [5, -3, "JSON value of type number is not of expected type object"],
      [{ vout: 0 }, -3, "Missing txid"],
      [
        { txid: 7, vout: 0 },
        -3,
        "JSON value of type number for field txid is not of expected type string",
      ],
      [{ txid: coin.txid }, -3, "Missing vout"],
      [
        { ...outpoint, vout: "x" },
        -3,
        "JSON value of type string for field vout is not of expected type number",
      ],
      [{ ...outpoint, vout: 1.5 }, -1, "JSON integer out of range"],
      [{ ...outpoint, vout: 2 ** 31 }, -1, "JSON integer out of range"],
      [{ ...outpoint, vout: -1 }, -8, "Invalid parameter, vout cannot be negative"],
    ];
    for (const [output, code, message] of typeErrors) {
      assertEquals(await error("lockunspent", [false, [output]]), [code, message]);
    }
    assertEquals(await call("listlockunspent"), [outpoint]);
    // The persistent lock outlives a restart of the wallet.
    await loader[Symbol.asyncDispose]();
    loader = open();
    await call("loadwallet", ["w"], "");
    assertEquals(await call("listlockunspent"), [outpoint]);
    assertEquals(await call("lockunspent", [true]), true); // no outputs: unlock them all
    assertEquals(await call("listlockunspent"), []);
    assertEquals(await error("lockunspent", [true, [outpoint]]), [
      -8,
      "Invalid parameter, expected locked output",
    ]);
    assert(/^[0-9a-f]{64}$/.test(await call("sendtoaddress", [foreign, 100_000_000, ...fee])));
  } finally {
    await loader[Symbol.asyncDispose]();
  }
});

Deno.test("wallet rpc: listreceivedbyaddress and listreceivedbylabel as Core's ListReceived", async () => {
  using node = testNode();
  await using loader = new WalletLoaderImpl(`${node.dir}/wd`, node.makeChain(), {});
  const call = (method: string, params: unknown[] = [], wallet = "w") =>
    walletCall(loader, method, params, wallet);
  await call("createwallet", ["w"]);
  await call("createwallet", ["other"]);
  const tabby = await call("getnewaddress", ["tabby"]);
  const plain = await call("getnewaddress");
  const unused = await call("getnewaddress", ["tabby"]);
  const friend = await call("getnewaddress", [], "other");
  await call("setlabel", [friend, "friend"]);
  const scriptOf = async (address: string) =>
    hexBytes((await call("getaddressinfo", [address])).scriptPubKey);
  node.mine(1, await scriptOf(tabby));
  node.mine(100, await scriptOf(plain));
  const tabbyCoinbase = (await call("listunspent"))[0].txid;
  // A payment to `unused`, still in the mempool (fee_rate 2000 sat/kvB); its change is no address.
  const fee = [null, null, false, null, null, null, null, 2000];
  const paid = await call("sendtoaddress", [unused, 100_000_000, ...fee]);

  const row = (
    address: string,
    amount: number,
    confirmations: number,
    label: string,
    txids: string[],
  ) => ({ address, amount, confirmations, label, txids });
  // In the address book's order: by script type, then program.
  const order = async (...addresses: string[]) => {
    const keyed = await Promise.all(addresses.map(async (a) => [hex.encode(await scriptOf(a)), a]));
    return keyed.sort(([a], [b]) => (a < b ? -1 : 1)).map(([, a]) => a);
  };
  // The matured coinbase only: the other 100 are immature, the payment unconfirmed.
  assertEquals(await call("listreceivedbyaddress"), [
    row(tabby, 50, 101, "tabby", [tabbyCoinbase]),
  ]);
  // The coinbases of blocks 2 to 101, in the order the wallet saw them.
  const coinbases = Array.from({ length: 100 }, (_, i) => {
    const block = node.chain.readBlock(node.chain.entryAtHeight(i + 2)!.hash)!;
    return hashToHex(txid(block.txs[0]));
  });
  const expected = new Map([
    [tabby, row(tabby, 50, 101, "tabby", [tabbyCoinbase])],
    [plain, row(plain, 5000, 1, "", coinbases)],
    [unused, row(unused, 1, 0, "tabby", [paid])],
  ]);
  assertEquals(
    await call("listreceivedbyaddress", [0, false, true, "", true]),
    (await order(tabby, plain, unused)).map((a) => expected.get(a)),
  );
  // Every address of the book with include_empty, another wallet's labelled one too.
  assertEquals(
    (await call("listreceivedbyaddress", [1, true])).map((
      r: { address: string; amount: number },
    ) => [r.address, r.amount]),
    (await order(tabby, plain, unused, friend)).map((a) => [a, a === tabby ? 50 : 0]),
  );
  assertEquals(await call("listreceivedbyaddress", [0, false, true, unused]), [
    row(unused, 1, 0, "tabby", [paid]),
  ]);
  assertEquals(await call("listreceivedbyaddress", [1, false, true, friend]), []);
  const invalid = await loader.executeRpc("listreceivedbyaddress", '[1, false, true, "nope"]', "w");
  assertEquals(JSON.parse(invalid).error, {
    code: -4,
    message: "address_filter parameter was invalid",
  });

  assertEquals(await call("listreceivedbylabel"), [{
    amount: 50,
    confirmations: 101,
    label: "tabby",
  }]);
  assertEquals(await call("listreceivedbylabel", [0, true, true, true]), [
    { amount: 5000, confirmations: 1, label: "" },
    { amount: 0, confirmations: 0, label: "friend" },
    { amount: 51, confirmations: 0, label: "tabby" },
  ]);
});
