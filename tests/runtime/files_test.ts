/**
 * runtime/files.ts: atomic writes, and sweeping what killed writers left.
 *
 * @module
 */
import { assertEquals, assertThrows } from "../assert.ts";
import { readFileIfExists, writeFileAtomic } from "../../runtime/files.ts";
import { tempDir } from "../helpers.ts";

Deno.test("writeFileAtomic: replaces the file, leaves no temporary file, keeps it private", () => {
  using temp = tempDir();
  const dir = temp.path;
  const path = `${dir}/state.json`;
  assertEquals(readFileIfExists(path), null);
  writeFileAtomic(path, "one");
  writeFileAtomic(path, "two");
  assertEquals(readFileIfExists(path), "two");
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["state.json"]);
  assertEquals(Deno.statSync(path).mode! & 0o777, 0o600);
});

Deno.test("writeFileAtomic: a failed write leaves the old content and no temporary file", () => {
  using temp = tempDir();
  const dir = temp.path;
  const path = `${dir}/state.json`;
  writeFileAtomic(path, "old");
  Deno.mkdirSync(`${dir}/blocker`);
  // Renaming a file over a directory fails after the temporary file was written.
  assertThrows(() => writeFileAtomic(`${dir}/blocker`, "new"));
  assertEquals(readFileIfExists(path), "old");
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["blocker", "state.json"]);
});

Deno.test("writeFileAtomic: removes what killed writers left, not what a live one is writing", () => {
  using temp = tempDir();
  const dir = temp.path;
  const path = `${dir}/state.json`;
  const hourAgo = new Date(Date.now() - 3600_000);
  const left = (name: string, old: boolean) => {
    Deno.writeTextFileSync(`${dir}/${name}`, "partial");
    if (old) Deno.utimeSync(`${dir}/${name}`, hourAgo, hourAgo);
  };
  left("state.json.4242.tmp", true); // killed mid-write an hour ago
  left("state.json.4243.tmp", false); // another process writing now
  left("other.json.4244.tmp", true); // another file's
  left("state.json.notes.tmp", true); // not a writer's name
  writeFileAtomic(path, "new");
  assertEquals(readFileIfExists(path), "new");
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "other.json.4244.tmp",
    "state.json",
    "state.json.4243.tmp",
    "state.json.notes.tmp",
  ]);
});
