/**
 * migratewallet and walletdisplayaddress through a real node and wallet
 * process over HTTP (`startMethodFuzzTarget`: `-rpcdoccheck`, wallet "w"),
 * as Bitcoin Core v30 answers them for this node's wallets, which are all
 * descriptor wallets without external signers: each error with Core's
 * code and text, in Core's order, and both help texts word for word. A
 * legacy (Berkeley DB) wallet file, which Core would migrate, is refused
 * with this wallet's own one-line error.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";
import { rejects } from "../node/real_node.ts";

/** Core's `HelpExampleRpc` line with no arguments. */
function curl(method: string): string {
  return `> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", ` +
    `"method": "${method}", "params": []}' -H 'content-type: application/json' ` +
    "http://127.0.0.1:8332/\n";
}

/** Bitcoin Core v30.0's `help <method>` texts. */
const HELP: Record<string, string> = {
  migratewallet: `migratewallet ( "wallet_name" "passphrase" )

Migrate the wallet to a descriptor wallet.
A new wallet backup will need to be made.

The migration process will create a backup of the wallet before migrating. This backup
file will be named <wallet name>-<timestamp>.legacy.bak and can be found in the directory
for this wallet. In the event of an incorrect migration, the backup can be restored using restorewallet.
Encrypted wallets must have the passphrase provided as an argument to this call.

This RPC may take a long time to complete. Increasing the RPC client timeout is recommended.

Arguments:
1. wallet_name    (string, optional, default=the wallet name from the RPC endpoint) The name of the wallet to migrate. If provided both here and in the RPC endpoint, the two must be identical.
2. passphrase     (string, optional) The wallet passphrase

Result:
{                              (json object)
  "wallet_name" : "str",       (string) The name of the primary migrated wallet
  "watchonly_name" : "str",    (string, optional) The name of the migrated wallet containing the watchonly scripts
  "solvables_name" : "str",    (string, optional) The name of the migrated wallet containing solvable but not watched scripts
  "backup_path" : "str"        (string) The location of the backup of the original wallet
}

Examples:
> bitcoin-cli migratewallet 
${curl("migratewallet")}`,
  walletdisplayaddress: `walletdisplayaddress "address"

Display address on an external signer for verification.

Arguments:
1. address    (string, required) bitcoin address to display

Result:
{                       (json object)
  "address" : "str"     (string) The address as confirmed by the signer
}
`,
};

const ALREADY = "Error: This wallet is already a descriptor wallet";
const MISSING = "Error: Wallet does not exist";
const BDB_REFUSED =
  "Error: This wallet is a legacy (Berkeley DB) wallet, which this wallet process cannot read, so it cannot migrate it; migrate it with Bitcoin Core";

/** `bytes` long, with Berkeley DB's B-tree magic at offset 12 (little-endian, as on x86). */
function bdbFile(bytes = 4096): Uint8Array {
  const data = new Uint8Array(bytes);
  new DataView(data.buffer).setUint32(12, 0x00053162, true);
  return data;
}

Deno.test("migratewallet and walletdisplayaddress as Core v30 answers them for descriptor wallets", async (t) => {
  await using target = await startMethodFuzzTarget();
  const { node, walletCall } = target;
  const wallets = `${target.walletDir}/wallets`;
  const own: string = await walletCall("getnewaddress");
  const err = (code: number, message: string) => ({ error: { code, message } });

  await t.step(
    "walletdisplayaddress: the wallet, the address, then no signer's ScriptPubKeyMan",
    async () => {
      const noSpkm = err(-1, "There is no ScriptPubKeyManager for this address");
      assertEquals(await walletCall("walletdisplayaddress", [own]), noSpkm);
      // Any valid address: the wallet's own, another's (a key outside it), P2A, and a witness
      // version no rule spends yet.
      const others = [
        "bcrt1pfeesnyr2tx",
        "bcrt1zqurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurszqtpkz",
      ];
      for (const address of [...target.context.addresses, ...others]) {
        assertEquals(await walletCall("walletdisplayaddress", [address]), noSpkm);
      }
      assertEquals(await walletCall("walletdisplayaddress", { address: own }), noSpkm);
      await rejects(
        node.call("walletdisplayaddress", [own]),
        -1,
        "There is no ScriptPubKeyManager for this address",
      );
      for (const bad of ["", "notanaddress", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", own + "x"]) {
        assertEquals(await walletCall("walletdisplayaddress", [bad]), err(-5, "Invalid address"));
      }
      // The wallet is found first (GetWalletForJSONRPCRequest), then the address read.
      assertEquals(
        await walletCall("walletdisplayaddress", ["notanaddress"], "nosuch"),
        err(-18, "Requested wallet does not exist or is not loaded"),
      );
      // The framework's checks come before both.
      assertEquals(
        await walletCall("walletdisplayaddress", [5], "nosuch"),
        err(
          -3,
          'Wrong type passed:\n{\n    "Position 1 (address)": "JSON value of type number is not of expected type string"\n}',
        ),
      );
      assertEquals(
        await walletCall("walletdisplayaddress", []),
        err(-1, HELP.walletdisplayaddress),
      );
      assertEquals(await node.call("help", ["walletdisplayaddress"]), HELP.walletdisplayaddress);
    },
  );

  await t.step("migratewallet: which wallet (Core's EnsureUniqueWalletName)", async () => {
    const either = err(
      -8,
      "Either the RPC endpoint wallet or the wallet name parameter must be provided",
    );
    // No name at `/`: refused whatever is loaded (one wallet here, none and two below).
    assertEquals(
      await node.raw('{"id":1,"method":"migratewallet","params":[]}').then((r) => r.body.error),
      either.error,
    );
    assertEquals(
      await walletCall("migratewallet", ["other"]),
      err(-8, "The RPC endpoint wallet and the wallet name parameter specify different wallets"),
    );
    // unloadwallet checks the two names as Core v30's shared EnsureUniqueWalletName does.
    assertEquals(
      await walletCall("unloadwallet", ["other"]),
      err(-8, "The RPC endpoint wallet and the wallet name parameter specify different wallets"),
    );
    assertEquals(
      await walletCall("migratewallet", [5]),
      err(
        -3,
        'Wrong type passed:\n{\n    "Position 1 (wallet_name)": "JSON value of type number is not of expected type string"\n}',
      ),
    );
    assertEquals(await walletCall("migratewallet", [null, "pass", 1]), err(-1, HELP.migratewallet));
  });

  await t.step("migratewallet: a loaded wallet, an unloaded one, a missing one", async () => {
    assertEquals(await walletCall("migratewallet"), err(-4, ALREADY));
    assertEquals(await walletCall("migratewallet", ["w", "pass"]), err(-4, ALREADY));
    assertEquals(await walletCall("migratewallet", { passphrase: "x" }), err(-4, ALREADY));
    await node.call("createwallet", ["w2"]);
    await node.call("unloadwallet", ["w2"]);
    assertEquals(
      await walletCall("migratewallet", ["w2"], "w"),
      err(-8, "The RPC endpoint wallet and the wallet name parameter specify different wallets"),
    );
    await rejects(node.call("migratewallet", ["w2"]), -4, ALREADY);
    // The endpoint names a wallet that is not loaded: it is looked for, not refused as unloaded.
    assertEquals(await walletCall("migratewallet", [], "w2"), err(-4, ALREADY));
    await rejects(node.call("migratewallet", ["missing"]), -4, MISSING);
    assertEquals(await walletCall("migratewallet", ["missing"], "missing"), err(-4, MISSING));
    // Still as they were: migratewallet changed nothing.
    assertEquals(await node.call("listwallets"), ["w"]);
    assertEquals(await node.call("loadwallet", ["w2"]), { name: "w2" });
    // Two wallets loaded, no name at `/`: the same -8, not Core's -19.
    await rejects(
      node.call("migratewallet"),
      -8,
      "Either the RPC endpoint wallet or the wallet name parameter must be provided",
    );
    await rejects(node.call("migratewallet", ["w2"]), -4, ALREADY);
    await node.call("unloadwallet", ["w2"]);
  });

  await t.step("migratewallet: what the wallets directory holds", async () => {
    // A folder without a wallet.dat, or with a file that is not Berkeley DB's: nothing to migrate.
    Deno.mkdirSync(`${wallets}/empty`);
    await rejects(node.call("migratewallet", ["empty"]), -4, ALREADY);
    Deno.mkdirSync(`${wallets}/short`);
    Deno.writeFileSync(`${wallets}/short/wallet.dat`, bdbFile(4095));
    await rejects(node.call("migratewallet", ["short"]), -4, ALREADY);
    Deno.writeFileSync(`${wallets}/plainfile`, new Uint8Array(8192));
    await rejects(node.call("migratewallet", ["plainfile"]), -4, ALREADY);
    // A legacy wallet: a folder's wallet.dat, or a data file named in the wallets directory.
    Deno.mkdirSync(`${wallets}/legacy`);
    Deno.writeFileSync(`${wallets}/legacy/wallet.dat`, bdbFile());
    await rejects(node.call("migratewallet", ["legacy"]), -4, BDB_REFUSED);
    Deno.writeFileSync(`${wallets}/legacy.dat`, bdbFile());
    await rejects(node.call("migratewallet", ["legacy.dat", "pass"]), -4, BDB_REFUSED);
    // A file named by a path below the wallets directory is not a wallet path (Core's GetWalletPath).
    await rejects(
      node.call("migratewallet", ["legacy/wallet.dat"]),
      -4,
      "Invalid -wallet path 'legacy/wallet.dat'. -wallet path should point to a directory where " +
        "wallet.dat and database/log.?????????? files can be stored, a location where such a " +
        "directory could be created, or (for backwards compatibility) the name of an existing data " +
        `file in -walletdir ("${wallets}")`,
    );
    await rejects(node.call("migratewallet", ["legacy/nothing"]), -4, MISSING);
    await rejects(node.call("migratewallet", ["a\u0000b"]), -4, MISSING);
    // The sandboxed wallet process reads its own folders only.
    const outside = await node.call("migratewallet", ["/etc"]).catch((e) => e);
    assertEquals(outside.code, -4);
    assert(
      outside.message.includes("outside what the wallet's sandbox lets it read"),
      outside.message,
    );
  });

  await t.step("help", async () => {
    assertEquals(await node.call("help", ["migratewallet"]), HELP.migratewallet);
    const listing: string = await node.call("help");
    const wallet = listing.split("\n\n").find((s) => s.startsWith("== Wallet =="))!.split("\n");
    assert(wallet.includes('migratewallet ( "wallet_name" "passphrase" )'), wallet.join("\n"));
    assert(wallet.includes('walletdisplayaddress "address"'), wallet.join("\n"));
    assertEquals(wallet.slice(1), [...wallet.slice(1)].sort());
  });

  assertEquals(await target.health(), null);
});
