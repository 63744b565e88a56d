/**
 * The disk quota's mechanisms on their own: the watcher (bytes, entries,
 * sparse files) and, under root, the data directory's ext4 image (files
 * moved in, writes refused by the kernel past the quota, grown with it,
 * unmounted). Components filling their disk are in the escape suite.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import {
  diskUsage,
  entryLimit,
  imageMb,
  isMountPoint,
  mountDataImage,
  unmountDataImage,
  watchDisk,
} from "../../sandbox/quota.ts";
import { tempDir } from "../helpers.ts";

const MIB = 1 << 20;

/** What a watcher over `roots` reports (it must, within a generous deadline). */
async function report(roots: string[], diskMb: number): Promise<string> {
  let said: string | null = null;
  await using _watch = watchDisk(roots, diskMb, (description) => said = description, 1);
  const deadline = Date.now() + 10_000;
  while (said === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return said ?? "nothing within 10 s";
}

Deno.test("quota: the watcher counts allocated bytes and entries in every root", async () => {
  using dataDir = tempDir();
  using cachesDir = tempDir();
  const [data, caches] = [dataDir.path, cachesDir.path];
  Deno.mkdirSync(`${data}/sub`);
  Deno.writeFileSync(`${data}/sub/a`, new Uint8Array(MIB).fill(1));
  Deno.writeFileSync(`${caches}/b`, new Uint8Array(MIB / 2).fill(1));
  // A sparse file stores nothing and costs nothing.
  using sparse = Deno.openSync(`${data}/sparse`, { write: true, create: true });
  sparse.truncateSync(64 * MIB);
  const usage = await diskUsage([data, caches], 100);
  assertEquals(usage.entries, 4);
  assert(usage.bytes >= 1.5 * MIB && usage.bytes < 2 * MIB, `${usage.bytes} bytes`);
  assertEquals(await report([data, caches], 1), "2 MB on disk, over the 1 MB limit");
});

Deno.test("quota: the watcher stops a directory of too many files, without walking them all", async () => {
  using temp = tempDir();
  const dir = temp.path;
  const limit = entryLimit(1);
  assertEquals(limit, 1024);
  for (let i = 0; i <= limit; i++) Deno.writeFileSync(`${dir}/${i}`, new Uint8Array());
  assertEquals((await diskUsage([dir], 10)).entries, 11, "the walk stops past its limit");
  assertEquals(await report([dir], 1), "more than 1024 files on disk, over the limit for 1 MB");
});

const root = Deno.uid() === 0;
if (!root) console.log("SKIPPED the disk image test: mounting needs root");

Deno.test({
  name: "quota: under root the data directory is an image the kernel caps",
  ignore: !root,
  async fn() {
    using stateDir = tempDir();
    const state = stateDir.path;
    const data = `${state}/data`;
    const image = `${state}/disks/data.ext4`;
    const owner = { uid: 1_900_065_000, gid: 1_900_065_000 };
    Deno.mkdirSync(data);
    Deno.writeTextFileSync(`${data}/kept.txt`, "from before the image");
    // A supervisor killed while it made an image an hour ago left it; one making one now, not yet.
    Deno.mkdirSync(`${state}/disks`);
    const hourAgo = new Date(Date.now() - 3600_000);
    const killed = `${image}.${crypto.randomUUID()}.tmp`,
      making = `${image}.${crypto.randomUUID()}.tmp`;
    for (const leftover of [killed, making]) {
      Deno.writeFileSync(leftover, new Uint8Array());
      Deno.truncateSync(leftover, 8 * MIB);
    }
    Deno.utimeSync(killed, hourAgo, hourAgo);
    await mountDataImage(data, image, 8, owner);
    try {
      assert(isMountPoint(data));
      assertEquals(Deno.statSync(image).size, imageMb(8) * MIB);
      assertEquals(
        [...Deno.readDirSync(`${state}/disks`)].map((e) => e.name).sort(),
        ["data.ext4", making.slice(making.lastIndexOf("/") + 1)],
      );
      // What was there moved in; the file system's root is the component's.
      assertEquals([...Deno.readDirSync(data)].map((e) => e.name), ["kept.txt"]);
      assertEquals(Deno.readTextFileSync(`${data}/kept.txt`), "from before the image");
      assertEquals(Deno.statSync(data).uid, owner.uid);
      // Past the image, the kernel refuses the write.
      using file = Deno.openSync(`${data}/fill`, { write: true, create: true });
      const chunk = new Uint8Array(MIB).fill(1);
      const error = await assertRejects(async () => {
        for (let i = 0; i < 64; i++) await file.write(chunk);
      });
      assert(/No space left on device/.test(error.message), error.message);
      const written = file.statSync().size;
      assert(written > 8 * MIB && written <= imageMb(8) * MIB, `${written} bytes written`);
      // Mounted already (a supervisor died): used as it is.
      await mountDataImage(data, image, 8, owner);
    } finally {
      await unmountDataImage(data);
    }
    assert(!isMountPoint(data));
    assertEquals([...Deno.readDirSync(data)], [], "the data are in the image, not beside it");
    // A larger quota grows the image; the data stay.
    await mountDataImage(data, image, 16, owner);
    try {
      assertEquals(Deno.statSync(image).size, imageMb(16) * MIB);
      assertEquals(Deno.readTextFileSync(`${data}/kept.txt`), "from before the image");
      Deno.writeFileSync(`${data}/more`, new Uint8Array(4 * MIB).fill(1));
    } finally {
      await unmountDataImage(data);
    }
  },
});
