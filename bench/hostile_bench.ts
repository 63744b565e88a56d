/**
 * The hostile-peer figures: a Tester server with the default limits, first
 * idle (the reference), then under a peer that writes 64 KiB echo calls and
 * never reads the answers nor finishes them, reconnecting each time it is
 * cut off, for 10 s while a well-behaved client keeps calling.
 *
 * Prints `hostile_never_reading_peer_rss_mb` (the server's resident memory
 * at the end of the 10 s), its peak, the cut-offs, and the other client's
 * sequential call rate during the attack.
 *
 * @module
 */
import { echoTemplate, writeWithoutReading } from "../tests/flood.ts";
import { connectTester, memoryOf, startLimitedServer, tempSocket } from "../tests/helpers.ts";
import { build } from "../tests/wire_peer.ts";
import { report } from "./measure.ts";

const MiB = 1024 * 1024;
const ATTACK_MS = 10_000;

/** Runs the attack and prints its figures. */
export async function hostileFigures(): Promise<void> {
  using socket = tempSocket("hostile");
  const path = socket.path;
  await using server = await startLimitedServer(path, "tester");
  const pid = server.child.pid;
  await using client = await connectTester(path);
  for (let i = 0; i < 100; i++) await client.tester.add(i, 1);
  const idle = report("hostile_idle_server_rss_mb", memoryOf(pid).rss / MiB, "MiB");

  const stop = new AbortController();
  let rssAtEnd = 0;
  setTimeout(() => {
    // Read while the attack is still on, before its connection closes.
    rssAtEnd = memoryOf(pid).rss;
    stop.abort();
  }, ATTACK_MS);
  const bootstrap = new Uint8Array(build.bootstrap(0).toArrayBuffer());
  const echo = echoTemplate(64 * 1024);
  const attacker = async () => {
    let cutOffs = 0;
    while (!stop.signal.aborted) {
      const next = (i: number) => i === 0 ? bootstrap : echo.set(i);
      if (await writeWithoutReading(path, next, Infinity, stop.signal)) cutOffs++;
    }
    return cutOffs;
  };
  const caller = async () => {
    let calls = 0;
    while (!stop.signal.aborted) await client.tester.add(calls++, 1);
    return calls;
  };
  const [cutOffs, calls] = await Promise.all([attacker(), caller()]);

  const rss = report("hostile_never_reading_peer_rss_mb", rssAtEnd / MiB, "MiB");
  report("hostile_never_reading_peer_peak_rss_mb", memoryOf(pid).peak / MiB, "MiB");
  report("hostile_never_reading_peer_cutoffs", cutOffs, "connections");
  report("hostile_other_client_calls_per_s", calls / (ATTACK_MS / 1000), "calls/s");
  console.log(`RATIO hostile_rss_vs_idle ${(rss / idle).toFixed(2)}`);
}

if (import.meta.main) await hostileFigures();
