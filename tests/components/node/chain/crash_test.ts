/**
 * Crash consistency: a child process connecting blocks (with spends and
 * reorganisations) is SIGKILLed at random moments, several times over the
 * same directory. After each kill, reopening must succeed (the chain state
 * checks itself on open), the UTXO set must equal one rebuilt from the
 * active chain's stored blocks, and every block the child reported as
 * accepted must still be stored.
 *
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { BlockStatus, ChainState, hashFromHex } from "../../../../components/node/chain/mod.ts";
import { assertUtxoSetMatchesBlocks } from "./chain_helpers.ts";

const FIXTURE = new URL("./crash_fixture.ts", import.meta.url).pathname;
const CONFIG = new URL("../../../../deno.json", import.meta.url).pathname;

/** Runs the fixture until it has reported `blocks` more blocks, then SIGKILLs it; returns the reported hashes. */
async function runAndKill(dir: string, blocks: number): Promise<string[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `--config=${CONFIG}`, "--allow-read", "--allow-write", FIXTURE, dir],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reported: string[] = [];
  const stderr = new Response(child.stderr).text();
  let buffered = "";
  const decoder = new TextDecoder();
  const reader = child.stdout.getReader();
  try {
    while (reported.length < blocks) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the fixture exited early: ${await stderr}`);
      buffered += decoder.decode(value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const match = /^block ([0-9a-f]{64})$/.exec(line);
        assert(match, `unexpected fixture output: ${line}`);
        reported.push(match[1]);
      }
    }
    // Land the kill anywhere in the work on the next block.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
    child.kill("SIGKILL");
  } finally {
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    const status = await child.status;
    await stderr;
    assertEquals(status.signal, "SIGKILL", "the fixture was killed, not finished");
  }
  return reported;
}

Deno.test("crash: SIGKILL at random moments leaves a consistent chain and UTXO set", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "chain_crash_" });
  try {
    const stored: string[] = [];
    // The first run is killed somewhere in the first 150 blocks (maturing coinbases, then spends).
    for (
      const blocks of [
        5 + Math.floor(Math.random() * 145),
        ...[1, 2, 3, 4].map(() => 3 + Math.floor(Math.random() * 25)),
      ]
    ) {
      stored.push(...await runAndKill(dir, blocks));
      using chain = ChainState.open(dir);
      assertUtxoSetMatchesBlocks(chain);
      for (const hash of stored) {
        const entry = chain.entry(hashFromHex(hash));
        assert(entry && entry.status & BlockStatus.HAVE_DATA, `reported block ${hash} is stored`);
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
