/**
 * What a child prints, as its parent shows it: sanitized lines, long lines
 * cut, lines over the rate dropped and counted (a rate so low that nothing
 * refills during the test, so the counts do not depend on timing), and a
 * spawned child's lines arriving through pipes.
 *
 * @module
 */
import { assertEquals } from "../../assert.ts";
import { denoCommand, LineForwarder, spawn } from "../../../mod.ts";
import { sanitizeLine } from "../../../runtime/process/output.ts";
import { FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("output: escape sequences go, other controls are shown, text stays", () => {
  const cases: [string, string][] = [
    ["plain text, unicode ✓", "plain text, unicode ✓"],
    ["\x1b[1;31mred\x1b[0m", "red"],
    ["\x1b]0;title\x07after", "after"],
    ["\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"],
    ["\x1bPdevice\x1b\\kept", "kept"],
    ["\x1bc\x1b7\x1b8reset", "reset"],
    ["\x9b2Jc1 csi", "c1 csi"],
    ["bell\x07 nul\x00 del\x7f", "bell\\x07 nul\\x00 del\\x7f"],
    ["tab\there", "tab here"],
    ["over\rwrite", "over\\x0dwrite"],
    ["\u202eright-to-left\u2066", "\\u202eright-to-left\\u2066"],
    ["unterminated \x1b[12", "unterminated "],
  ];
  for (const [raw, shown] of cases) assertEquals(sanitizeLine(raw), shown, JSON.stringify(raw));
});

Deno.test("output: lines split across writes and streams, CRLF, a last line without newline", () => {
  const lines: string[] = [];
  const forwarder = new LineForwarder((line, stream) => lines.push(`${stream}:${line}`));
  forwarder.write("stdout", bytes("one\r\ntw"));
  forwarder.write("stderr", bytes("err"));
  forwarder.write("stdout", bytes("o\n"));
  // A character split between two writes.
  const check = bytes("✓\n");
  forwarder.write("stderr", check.subarray(0, 1));
  forwarder.write("stderr", check.subarray(1));
  forwarder.write("stdout", bytes("last"));
  forwarder.end("stdout");
  forwarder.end("stderr");
  forwarder.close();
  assertEquals(lines, ["stdout:one", "stdout:two", "stderr:err✓", "stdout:last"]);
});

Deno.test("output: a long line is cut and the cut counted, without holding it", () => {
  const lines: string[] = [];
  const forwarder = new LineForwarder((line) => lines.push(line), { maxLineLength: 10 });
  for (let i = 0; i < 1000; i++) forwarder.write("stdout", bytes("x".repeat(1000)));
  forwarder.write("stdout", bytes("\nshort\n"));
  forwarder.close();
  assertEquals(lines, [`${"x".repeat(10)}… [999990 more characters cut]`, "short"]);
  // Shown controls count against the length too.
  const shown: string[] = [];
  const escaped = new LineForwarder((line) => shown.push(line), { maxLineLength: 8 });
  escaped.write("stderr", bytes("\x07\x07\x07\n"));
  assertEquals(shown, ["\\x07\\x07… [4 more characters cut]"]);
});

Deno.test("output: lines over the rate are dropped and counted in a line of their own", () => {
  const lines: string[] = [];
  const forwarder = new LineForwarder((line, stream) => lines.push(`${stream}:${line}`), {
    burstLines: 3,
    linesPerSecond: 0.001,
  });
  for (let i = 0; i < 10; i++) forwarder.write(i % 2 ? "stderr" : "stdout", bytes(`line ${i}\n`));
  forwarder.close();
  assertEquals(lines, [
    "stdout:line 0",
    "stderr:line 1",
    "stdout:line 2",
    "stderr:[7 lines dropped: more than 0.001 lines per second]",
  ]);
});

Deno.test("output: a spawned child's lines come through its pipes, never our stdio", async () => {
  const lines: string[] = [];
  const command = denoCommand(new URL("../../../examples/foo/main.ts", import.meta.url), {
    args: ["-debug=ipc"],
  });
  const child = await spawn(FooInit, command, {
    output: (line, stream) => lines.push(`${stream}:${line}`),
  });
  assertEquals(await (await child.init.makeFoo())!.add(1, 2), 3);
  await child[Symbol.asyncDispose](); // its output has been read to the end
  const fooLines = lines.filter((line) => line.includes("IPC server recv request"));
  assertEquals(fooLines.length > 0, true, lines.join("\n"));
  assertEquals(fooLines.every((line) => line.startsWith("stderr:")), true);
});
