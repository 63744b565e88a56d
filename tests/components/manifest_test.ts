/**
 * The components' folders: each manifest passes the sandbox's schema,
 * names an entry point that exists and the Init interface it serves, and
 * each module graph passes the provenance check (runtime, schemas, own
 * folder, the shared folders its manifest lists, `node:` built-ins and
 * declared packages only).
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { loadComponent, parseManifest } from "../../sandbox/manifest.ts";
import { planNode } from "../../components/node/sandboxed.ts";
import { rpcNetGrants } from "../../components/node/permissions.ts";
import { checkProvenance, ProvenanceError } from "../../sandbox/provenance.ts";
import { componentCodePolicy } from "../../sandbox/contract.ts";
import { tempDir } from "../helpers.ts";

const project = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

const expected = {
  node: {
    serves: ["Init"],
    read: ["regtest"],
    write: ["regtest"],
    net: ["[::1]:18443", "127.0.0.1:18443"],
    code: ["../bitcoin", "../notify", "../rpc"],
  },
  wallet: {
    serves: ["Init"],
    read: ["wallets", "settings"],
    write: ["wallets", "settings"],
    net: [],
    code: ["../bitcoin", "../notify", "../rpc"],
  },
  gui: { serves: ["GuiInit"], read: [], write: [], net: ["127.0.0.1:18480"], code: [] },
};

for (const [name, want] of Object.entries(expected)) {
  Deno.test(`components/${name}: manifest and module graph`, async () => {
    const folder = `${project}/components/${name}`;
    const source = `${folder}/manifest.json`;
    const manifest = parseManifest(JSON.parse(Deno.readTextFileSync(source)), source);
    assertEquals(manifest.name, name);
    assertEquals(manifest.entry, "main.ts");
    assertEquals(manifest.serves, want.serves);
    const { read, write, net, env } = manifest.permissions;
    assertEquals({ read, write, net, env }, {
      read: want.read,
      write: want.write,
      net: want.net,
      env: [],
    });
    assertEquals(manifest.code, want.code);
    const { codeFolders = [] } = await loadComponent(folder);
    assertEquals(codeFolders, want.code.map((code) => `${project}/components/${code.slice(3)}`));
    using temp = tempDir();
    const cache = temp.path;
    const code = await checkProvenance(
      `${folder}/main.ts`,
      componentCodePolicy(folder, cache, codeFolders),
    );
    assert(code.files.includes(`${folder}/main.ts`), code.files.join("\n"));
    if (codeFolders.length > 0) {
      // The shared folder is in its graph, and reachable only because the manifest lists it.
      assert(code.files.some((file) => file.startsWith(`${codeFolders[0]}/`)));
      await assertRejects(
        () => checkProvenance(`${folder}/main.ts`, componentCodePolicy(folder, cache)),
        ProvenanceError,
        `${codeFolders[0]}/`,
      );
    }
    Deno.removeSync(cache, { recursive: true });
  });
}

Deno.test("components/node: the manifest's net grants are the RPC endpoints of the options spawn-node gives by default", async () => {
  const node = await loadComponent(`${project}/components/node`);
  using temp = tempDir();
  const state = Deno.realPathSync(temp.path);
  const planned = planNode(node, state, []);
  assert(planned.kind === "run");
  assertEquals(rpcNetGrants(planned.plan.options), node.manifest.permissions.net);
  assertEquals(planned.plan.component.manifest.permissions, node.manifest.permissions);
});
