/**
 * The launcher as `deno task node` runs it, starting the shell fixture
 * instead of `components/node/main.ts`.
 *
 * @module
 */
import { launchNode } from "../../../components/node/launcher.ts";

Deno.exit(await launchNode(new URL("./shell_fixture.ts", import.meta.url), Deno.args));
