/**
 * An existing-style Bitcoin Core IPC client mines on our node: a C++
 * program written with stock libcapnp only (tests/cpp/mining_client.c++),
 * compiled from our schema files (Bitcoin Core's ids), follows the
 * minimal recipe proven against bitcoin-node v30.0 — bootstrap Init,
 * construct(null), makeThread, makeEcho + echo, makeMining, isTestChain,
 * getTip, createNewBlock, getBlockHeader, getBlock, a solved
 * submitSolution, destroy — against a fresh regtest chain served by
 * `nodeInit` on a UNIX socket.
 *
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { cppMiningClientPath } from "../../../helpers.ts";
import { hashToHex, txid } from "../../../../components/node/chain/mod.ts";
import { Mempool } from "../../../../components/node/mempool/mod.ts";
import { openTempChain } from "../chain/chain_helpers.ts";
import { serveInit } from "./ipc_helpers.ts";

const binary = await cppMiningClientPath();
const ignore = binary === null;
if (ignore) console.warn("SKIPPED C++ mining client interop: g++ / libcapnp-dev not found");

Deno.test({
  name: "interop: a stock-libcapnp C++ mining client mines a block on our node",
  ignore,
  async fn() {
    using chain = openTempChain();
    using mempool = new Mempool(chain);
    await using node = await serveInit(chain, mempool);
    const client = await new Deno.Command(binary!, {
      args: [`${node.datadir}/node.sock`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(client.stdout).trim().split("\n");
    const stderr = new TextDecoder().decode(client.stderr);
    const checks = lines.filter((line) => line.startsWith("CHECK "));
    assertEquals(checks.filter((line) => !line.endsWith(" ok")), [], stderr);
    assertEquals(checks.length, 12, lines.join("\n"));
    assertEquals(lines.at(-1), "DONE 12 0");
    assertEquals(client.code, 0);

    // The block the client mined is the node's tip, with the client's coinbase.
    const mined = lines.find((line) => line.startsWith("MINED "))!.slice("MINED ".length);
    assertEquals(chain.height, 1);
    assertEquals(hashToHex(chain.tip.hash), mined);
    const coinbase = chain.readBlock(chain.tip.hash)!.txs[0];
    assert(
      new TextDecoder().decode(coinbase.inputs[0].finalScriptSig).includes("cpp-pool"),
      "the client's own coinbase",
    );
    assertEquals(hashToHex(txid(coinbase)).length, 64);
    // Its objects were destroyed or released when it left.
    assertEquals(node.init.liveTemplates, 0);
  },
});
