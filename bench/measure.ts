/**
 * Measuring helpers shared by the benchmarks. `BENCH_SECONDS` sets the
 * measuring time per figure (default 2).
 *
 * @module
 */

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? "2");
const WARMUP_MS = 300;

/** Measuring time per figure, in seconds. */
export const BENCH_SECONDS: number = SECONDS;

/** Prints `BENCH <name> <value> <unit>` and returns `value`. */
export function report(name: string, value: number, unit: string): number {
  console.log(`BENCH ${name} ${value.toFixed(value < 100 ? 2 : 0)} ${unit}`);
  return value;
}

/** Runs `op` back to back (in `workers` parallel loops) and returns operations per second. */
export async function rate(op: () => Promise<unknown>, workers = 1): Promise<number> {
  const run = async (ms: number) => {
    const deadline = performance.now() + ms;
    let count = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        await op();
        count++;
      }
    }));
    return count / ((performance.now() - started) / 1000);
  };
  await run(WARMUP_MS);
  return await run(SECONDS * 1000);
}

/** Runs the synchronous `op` back to back for `BENCH_SECONDS` and returns operations per second. */
export function perSecond(op: () => void): number {
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    op();
    count++;
  }
  return count / ((performance.now() - started) / 1000);
}
