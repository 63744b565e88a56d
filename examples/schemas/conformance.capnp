# The multiprocess conformance surface: libmultiprocess' test cases
# (mptest's FooInterface) re-expressed as a schema of our own. Both the
# TypeScript implementation (examples/foo.ts) and the C++ peer
# (tests/cpp/mp_peer.c++) follow the semantics written here.
@0xe8a53bd0c61f7e42;

using Proxy = import "/mp/proxy.capnp";
using Mapping = import "/mapping.capnp";

# Bootstrap interface. `construct` exchanges ThreadMaps when the client
# proxy is created.
interface FooInit {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  # A new Foo object owned by the caller.
  makeFoo @1 (context :Proxy.Context) -> (result :Foo);
}

interface Foo {
  # Releases the object at once (libmultiprocess' special method).
  destroy @0 (context :Proxy.Context) -> ();
  # Context-less: runs immediately. result = a + b (Int32 wrap-around).
  add @1 (a :Int32, b :Int32) -> (result :Int32);
  # In/out: sum = sum + x.
  addInOut @2 (context :Proxy.Context, x :Int32, sum :Int32) -> (sum :Int32);
  # Several outputs: sum = a + b, product = a * b (as Int64).
  addOut @3 (context :Proxy.Context, a :Int32, b :Int32) -> (sum :Int32, product :Int64);
  # Returns `arg` unchanged.
  pass @4 (context :Proxy.Context, arg :FooStruct) -> (result :FooStruct);
  # Throws `arg` as the exception carried in `error`.
  raise @5 (context :Proxy.Context, arg :FooStruct) -> (error :FooStruct $Proxy.exception("FooStruct"));
  # Throws a plain error whose message is `message`, carried in `error`.
  raiseText @6 (context :Proxy.Context, message :Text) -> (error :Text $Proxy.exception("std::exception"));
  # Number of entries in the map.
  mapSize @7 (map :List(TextPair)) -> (result :Int32);
  # result = callback.call(arg).
  callback @8 (context :Proxy.Context, callback :FooCallback, arg :Int32) -> (result :Int32);
  # Keeps `callback` (replacing any kept one) for callbackSaved.
  saveCallback @9 (context :Proxy.Context, callback :FooCallback) -> ();
  # result = saved.call(arg); fails with "no saved callback" without one.
  callbackSaved @10 (context :Proxy.Context, arg :Int32) -> (result :Int32);
  # result = callback.callExtended(arg).
  callbackExtended @11 (context :Proxy.Context, callback :ExtendedCallback, arg :Int32) -> (result :Int32);
  # result = fn.call(): the function may call back into this object.
  passFn @12 (context :Proxy.Context, fn :FooFn) -> (result :Int32);
  # Waits `ms` milliseconds, then returns `value`; appends `value` to the
  # object's completion log first thing after the wait.
  wait @13 (context :Proxy.Context, ms :UInt32, value :Int32) -> (result :Int32);
  # The completion log of wait() so far.
  waitLog @14 (context :Proxy.Context) -> (result :List(Int32));
  # Name of the thread (strand) that runs the call.
  threadName @15 (context :Proxy.Context) -> (result :Text);
  # Every scalar type, returned unchanged.
  passScalars @16 (context :Proxy.Context, value :Scalars) -> (result :Scalars);
  # Returns `value`; `hasValue` false means absent, in and out.
  passOptional @17 (context :Proxy.Context, value :Int64, hasValue :Bool) -> (result :Int64, hasResult :Bool);
  # Returns `point` unchanged (a custom-typed Data field).
  passPoint @18 (context :Proxy.Context, point :Data $Mapping.type("Point")) -> (result :Data $Mapping.type("Point"));
  # A new Foo; calls on it work like calls on this one.
  makeChild @19 (context :Proxy.Context) -> (result :Foo);
  # result = foo.add(a, b): an object reference as a parameter.
  addWith @20 (context :Proxy.Context, foo :Foo, a :Int32, b :Int32) -> (result :Int32);
  # Live Foo objects made by this server (makeFoo, makeChild) not yet released or destroyed.
  liveFoos @21 (context :Proxy.Context) -> (result :UInt32);
  # The map with keys and values swapped.
  invertMap @22 (context :Proxy.Context, map :List(TextPair)) -> (result :List(TextPair));
}

struct FooStruct {
  name @0 :Text;
  setint @1 :List(Int32) $Mapping.set;
  vbool @2 :List(Bool);
  optionalInt @3 :Int32;
  hasOptionalInt @4 :Bool;
  texts @5 :List(Text);
  nested @6 :List(List(UInt8));
  color @7 :Color;
  blob @8 :Data;
}

enum Color {
  red @0;
  green @1;
  blue @2;
}

struct Scalars {
  b @0 :Bool;
  i8 @1 :Int8;
  i16 @2 :Int16;
  i32 @3 :Int32;
  i64 @4 :Int64;
  u8 @5 :UInt8;
  u16 @6 :UInt16;
  u32 @7 :UInt32;
  u64 @8 :UInt64;
  f32 @9 :Float32;
  f64 @10 :Float64;
  withDefault @11 :Int32 = 42;
  flagOn @12 :Bool = true;
}

struct TextPair {
  key @0 :Text;
  value @1 :Text;
}

interface FooCallback {
  destroy @0 (context :Proxy.Context) -> ();
  call @1 (context :Proxy.Context, arg :Int32) -> (result :Int32);
}

interface ExtendedCallback extends(FooCallback) {
  callExtended @0 (context :Proxy.Context, arg :Int32) -> (result :Int32);
}

interface FooFn {
  destroy @0 (context :Proxy.Context) -> ();
  call @1 (context :Proxy.Context) -> (result :Int32);
}
