/**
 * Builds the gui's page ahead of time: bundles `web/app.ts` (with the QR
 * code library, `qrcode-generator` from npm) for the browser with
 * `deno bundle`, and writes it with `web/index.html` and `web/app.css` as
 * strings into `web_assets.ts`, which the gui serves: nothing is fetched
 * or resolved when the gui runs, and the sandboxed gui needs no read
 * permission. With `--check`, writes nothing and exits 1 when the
 * committed `web_assets.ts` differs from what would be built.
 *
 * ```sh
 * deno run -A components/gui/build.ts          # rebuild
 * deno run -A components/gui/build.ts --check  # verify the committed bundle is current
 * ```
 *
 * @module
 */

const here = new URL(".", import.meta.url).pathname;

/** The text of `web_assets.ts` for the current sources. */
export async function buildAssets(): Promise<string> {
  const out = await Deno.makeTempFile({ suffix: ".js" });
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform=browser", "--minify", "-o", out, `${here}web/app.ts`],
      cwd: here,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) throw new Error(`deno bundle failed: ${new TextDecoder().decode(stderr)}`);
    const js = await Deno.readTextFile(out);
    const css = await Deno.readTextFile(`${here}web/app.css`);
    const html = await Deno.readTextFile(`${here}web/index.html`);
    return [
      "// Built by `deno run -A components/gui/build.ts` from components/gui/web/; do not edit.",
      "// deno-fmt-ignore-file",
      "// deno-lint-ignore-file",
      "/** The page. */",
      `export const INDEX_HTML: string = ${JSON.stringify(html)};`,
      "/** The page's style. */",
      `export const APP_CSS: string = ${JSON.stringify(css)};`,
      "/** The page's script (with qrcode-generator, MIT, bundled). */",
      `export const APP_JS: string = ${JSON.stringify(js)};`,
      "",
    ].join("\n");
  } finally {
    await Deno.remove(out);
  }
}

if (import.meta.main) {
  const target = `${here}web_assets.ts`;
  const built = await buildAssets();
  if (Deno.args.includes("--check")) {
    const committed = await Deno.readTextFile(target).catch(() => "");
    if (committed !== built) {
      console.error(`${target} is not current: run deno run -A components/gui/build.ts`);
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile(target, built);
    console.log(`wrote ${target} (${built.length} characters)`);
  }
}
