/**
 * JSON values as UniValue reads, writes and converts them.
 */
import { assertEquals, assertThrows } from "../../assert.ts";
import {
  Amount,
  asArr,
  asBool,
  asInt,
  asInt64,
  asObj,
  asReal,
  asStr,
  asUint32,
  asUint64,
  formatDouble,
  type Json,
  JsonNumber,
  JsonObject,
  JsonParseError,
  JsonTypeError,
  parseJson,
  toJson,
  writeJson,
} from "../../../components/rpc/json.ts";
import { RpcError } from "../../../components/rpc/errors.ts";
import { amountFromValue, parseFixedPoint } from "../../../components/rpc/params.ts";

const roundTrip = (text: string) => writeJson(parseJson(text));

Deno.test("numbers keep their exact text", () => {
  for (
    const n of [
      "1.50",
      "1e0",
      "1E+5",
      "-0",
      "0.000000001",
      "123456789012345678901234567890",
      "2.5e-10",
    ]
  ) {
    assertEquals(roundTrip(`[${n}]`), `[${n}]`);
  }
  assertEquals((parseJson("1.50") as JsonNumber).text, "1.50");
});

Deno.test("objects keep key order and duplicate keys", () => {
  const o = parseJson('{"b":1,"2":2,"a":3,"b":4}') as JsonObject;
  assertEquals(o.keys, ["b", "2", "a", "b"]);
  assertEquals((o.get("b") as JsonNumber).text, "1");
  assertEquals(writeJson(o), '{"b":1,"2":2,"a":3,"b":4}');
});

Deno.test("accepted JSON", () => {
  const cases: [string, string][] = [
    [' \t\n\r{ "a" : [ 1 , true , false , null , "x" ] } \n', '{"a":[1,true,false,null,"x"]}'],
    ["5", "5"],
    ['"x"', '"x"'],
    ["true", "true"],
    ["null", "null"],
    ["[]", "[]"],
    ["{}", "{}"],
    ["[[],{}]", "[[],{}]"],
    // UniValue reads a lone '-' at the very end of input as a number.
    ["-", "-"],
  ];
  for (const [input, written] of cases) assertEquals(roundTrip(input), written, input);
});

Deno.test("refused JSON", () => {
  const bad = [
    "",
    " ",
    "[1,]",
    "[,1]",
    '{"a":1,}',
    "{,}",
    "[01]",
    "[-01]",
    "[1.]",
    "[.5]",
    "[1e]",
    "[-a]",
    '{"a" 1}',
    "{1:2}",
    '["a" "b"]',
    "[1 2]",
    "[nul]",
    "[nullx]",
    "[1]x",
    "[1]]",
    "{}{}",
    "[",
    "]",
    "[}",
    "{]",
    '{"a":}',
    '{"a"}',
    '["abc',
    '["\\x"]',
    '["\\u12"]',
    '["a\tb"]',
    '["\\ud800"]',
    '["\\udc00"]',
    '["\\ud800\\ud800"]',
    "\f[]",
    "[1]\u0000",
    "'a'",
    "[+1]",
  ];
  for (const input of bad) assertThrows(() => parseJson(input), JsonParseError, undefined);
});

Deno.test("nesting: 512 levels parse, 513 do not", () => {
  parseJson("[".repeat(512) + "]".repeat(512));
  assertThrows(() => parseJson("[".repeat(513) + "]".repeat(513)), JsonParseError);
});

Deno.test("maxValues: a text of more values fails as it reaches the next one; keys count", () => {
  assertEquals(writeJson(parseJson("[1,2,3]", 4)), "[1,2,3]");
  assertThrows(() => parseJson("[1,2,3,4]", 4), JsonParseError, "more than 4 values at byte");
  // {"a":1}: the object, its key and its value.
  assertThrows(() => parseJson('{"a":1}', 2), JsonParseError, "more than 2 values");
  const many = parseJson("[" + "1,".repeat(99_999) + "1]") as Json[];
  assertEquals(many.length, 100_000, "no limit by default");
});

Deno.test("strings: escapes, surrogate pairs and UniValue's UTF-8 filter", () => {
  const s = (bytes: number[]) => parseJson(new Uint8Array([0x22, ...bytes, 0x22])) as string;
  assertEquals(parseJson('"\\u00fc\\/\\b\\f\\n\\r\\t\\"\\\\"'), 'ü/\b\f\n\r\t"\\');
  assertEquals(parseJson('"\\ud83d\\ude00"'), "😀");
  assertEquals(s([0xc3, 0xbc]), "ü");
  assertEquals(s([0xef, 0xbb, 0xbf, 0x61]), "\ufeffa", "a BOM inside a string is kept");
  // UniValue's filter accepts overlong forms and UTF-8-encoded surrogate pairs.
  assertEquals(s([0xc0, 0x80]), "\0");
  assertEquals(s([0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]), "😀");
  // ...and refuses broken sequences.
  for (const bad of [[0xff], [0x80], [0xc3], [0xe2, 0x82], [0xc3, 0x41], [0xed, 0xa0, 0xbd]]) {
    assertThrows(() => s(bad), JsonParseError, undefined);
  }
  // A code point above U+10FFFF cannot be a JS string: refused (UniValue would keep it).
  assertThrows(() => s([0xf4, 0x90, 0x80, 0x80]), JsonParseError);
});

Deno.test("writing strings: raw UTF-8, Core's escape table", () => {
  assertEquals(writeJson("ü/€😀"), '"ü/€😀"');
  assertEquals(
    writeJson('\u0000\u0001\b\t\n\u000b\f\r\u001f"\\\u007f'),
    '"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\\"\\\\\\u007f"',
  );
});

Deno.test("writing numbers: doubles as %.16g, bigints, amounts with 8 decimals", () => {
  const doubles: [number, string][] = [
    [0, "0"],
    [-0, "0"],
    [1, "1"],
    [-1, "-1"],
    [101, "101"],
    [1796163656, "1796163656"],
    [4.656542373906925e-10, "4.656542373906925e-10"],
    [2.00209799849262e-06, "2.00209799849262e-06"],
    [4.044246021544051e-07, "4.044246021544051e-07"],
    [0.1, "0.1"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1 / 3, "0.3333333333333333"],
    [123456789.125, "123456789.125"],
    [1e15, "1000000000000000"],
    [1e16, "1e+16"],
    [9007199254740991, "9007199254740991"],
    [1.5e300, "1.5e+300"],
    [-2.5e-7, "-2.5e-07"],
  ];
  for (const [x, text] of doubles) assertEquals(formatDouble(x), text, String(x));
  assertThrows(() => formatDouble(NaN), RangeError);
  assertThrows(() => writeJson([Infinity]), RangeError);
  assertEquals(writeJson(2n ** 64n), "18446744073709551616");
  const amounts: [bigint, string][] = [
    [0n, "0.00000000"],
    [1n, "0.00000001"],
    [5000002820n, "50.00002820"],
    [-2820n, "-0.00002820"],
    [-150000000n, "-1.50000000"],
    [2100000000000000n, "21000000.00000000"],
  ];
  for (const [sats, text] of amounts) assertEquals(writeJson(new Amount(sats)), text);
  assertThrows(() => new Amount(0.5), RangeError);
});

Deno.test("writing objects: plain objects skip undefined, Maps keep insertion order", () => {
  assertEquals(writeJson({ a: 1, b: undefined, c: [null, true] }), '{"a":1,"c":[null,true]}');
  assertEquals(writeJson(new Map([["9", 1], ["1", 2]])), '{"9":1,"1":2}');
  assertEquals(writeJson(new JsonObject([["x", null], ["x", "y"]])), '{"x":null,"x":"y"}');
});

Deno.test("pretty writing as UniValue::write(4)", () => {
  assertEquals(
    writeJson({ a: [1, { b: [] }], c: {} }, 4),
    '{\n    "a": [\n        1,\n        {\n            "b": [\n            ]\n        }\n    ],\n    "c": {\n    }\n}',
  );
  assertEquals(writeJson([], 4), "[\n]");
});

Deno.test("toJson: results read back as parsed values", () => {
  const j = toJson({ n: 1.5, b: 7n, a: new Amount(1n), m: new Map([["k", [true]]]) }) as JsonObject;
  assertEquals(writeJson(j), '{"n":1.5,"b":7,"a":0.00000001,"m":{"k":[true]}}');
  assertEquals((j.get("a") as JsonNumber).text, "0.00000001");
});

Deno.test("integer getters: exact text, range per type", () => {
  const n = (text: string): Json => new JsonNumber(text);
  assertEquals(asInt(n("2147483647")), 2147483647);
  assertEquals(asInt(n("-2147483648")), -2147483648);
  assertEquals(asInt(n("-0")), 0);
  for (const text of ["2147483648", "0.5", "1.0", "1e0", "9999999999", "-"]) {
    assertThrows(() => asInt(n(text)), Error, "JSON integer out of range");
  }
  assertEquals(asUint32(n("4294967295")), 4294967295);
  assertThrows(() => asUint32(n("-1")), Error, "JSON integer out of range");
  assertEquals(asInt64(n("-9223372036854775808")), -(2n ** 63n));
  assertThrows(() => asInt64(n("9223372036854775808")), Error, "JSON integer out of range");
  assertEquals(asUint64(n("18446744073709551615")), 2n ** 64n - 1n);
  assertThrows(
    () => asInt(parseJson('"1"')),
    JsonTypeError,
    "JSON value of type string is not of expected type number",
  );
});

Deno.test("other getters: Core's type error messages", () => {
  assertEquals(asReal(parseJson("1.5e2")), 150);
  assertThrows(() => asReal(parseJson("1e400")), Error, "JSON double out of range");
  assertEquals(asStr(parseJson('"x"')), "x");
  assertThrows(
    () => asStr(null),
    JsonTypeError,
    "JSON value of type null is not of expected type string",
  );
  assertThrows(
    () => asStr(undefined),
    JsonTypeError,
    "JSON value of type null is not of expected type string",
  );
  assertThrows(
    () => asBool(parseJson("1")),
    JsonTypeError,
    "JSON value of type number is not of expected type bool",
  );
  assertThrows(
    () => asObj(parseJson("[]")),
    JsonTypeError,
    "JSON value of type array is not of expected type object",
  );
  assertThrows(
    () => asArr(parseJson("{}")),
    JsonTypeError,
    "JSON value of type object is not of expected type array",
  );
});

Deno.test("amounts: converted from the text exactly (AmountFromValue)", () => {
  const ok: [string, bigint][] = [
    ['"0.1"', 10_000_000n],
    ["0.1", 10_000_000n],
    ["1.5", 150_000_000n],
    ["1e-8", 1n],
    ["0.000000010", 1n],
    ["0", 0n],
    ['"21000000"', 2_100_000_000_000_000n],
    ["20999999.99999999", 2_099_999_999_999_999n],
    ["0.12345678", 12_345_678n],
    ["1E2", 10_000_000_000n],
  ];
  for (const [text, sats] of ok) assertEquals(amountFromValue(parseJson(text)), sats, text);
  const invalid = [
    "0.000000001",
    '"abc"',
    '""',
    '"1."',
    '".5"',
    '"00.1"',
    '"1e18"',
    '" 1"',
    '"0x10"',
  ];
  for (const text of invalid) {
    assertThrows(() => amountFromValue(parseJson(text)), RpcError, "Invalid amount");
  }
  for (const text of ["-1", "21000001", "21000000.00000001", '"-0.00000001"']) {
    assertThrows(() => amountFromValue(parseJson(text)), RpcError, "Amount out of range");
  }
  const e = assertThrows(() => amountFromValue(true), RpcError, "Amount is not a number or string");
  assertEquals(e.code, -3);
});

Deno.test("parseFixedPoint: Core's rules", () => {
  assertEquals(parseFixedPoint("-0.5", 8), -50_000_000n);
  assertEquals(parseFixedPoint("1.23e2", 2), 12300n);
  assertEquals(parseFixedPoint("999999999999999999", 0), 999999999999999999n);
  assertEquals(parseFixedPoint("1000000000000000000", 0), undefined);
  assertEquals(parseFixedPoint("-", 8), undefined);
  assertEquals(parseFixedPoint("1e+", 8), undefined);
});
