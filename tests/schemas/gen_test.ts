/** The committed TypeScript in schemas/gen/ must be what `deno task gen` produces. */
import { assertEquals } from "../assert.ts";
import { generate } from "../../schemas/gen.ts";

const haveCapnp = await new Deno.Command("capnp", { args: ["--version"] }).output()
  .then((o) => o.success, () => false);
if (!haveCapnp) {
  console.log("SKIPPED generated-code staleness test: the capnp compiler is not installed");
}

Deno.test(
  { name: "schemas/gen/ is up to date with schemas/*.capnp", ignore: !haveCapnp },
  async () => {
    const generated = await generate();
    const dir = new URL("../../schemas/gen/", import.meta.url);
    const committed = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(committed, [...generated.keys()].sort(), "generated file set");
    for (const [name, text] of generated) {
      assertEquals(
        Deno.readTextFileSync(new URL(name, dir)),
        text,
        `schemas/gen/${name} is stale: run deno task gen`,
      );
    }
  },
);
