# Interfaces used by the runtime's tests, benchmarks and demonstration.
@0xa4e1b5d2c3f60718;

# A peer's self-test surface: arithmetic, payloads, capabilities both ways,
# errors of every type, cancellation and object accounting.
interface Tester {
  add @0 (a :Int32, b :Int32) -> (result :Int32);
  echo @1 (data :Data) -> (data :Data);
  echoText @2 (text :Text) -> (text :Text);
  # Returns a fresh Counter starting at `start`; each counts as a live object.
  makeCounter @3 (start :Int64) -> (counter :Counter);
  # Calls `callback.call(i)` for i in 1..n, in order, and returns the sum of the results.
  callBack @4 (callback :Callback, n :UInt32) -> (sum :Int64);
  # Throws an exception of the given type carrying `message`.
  fail @5 (type :ErrorType, message :Text) -> ();
  # Completes after `ms` milliseconds unless canceled first.
  wait @6 (ms :UInt32) -> (completed :Bool);
  # Server objects (Counters, held callbacks) currently alive.
  liveObjects @7 () -> (count :UInt32);
  # Number of wait() calls canceled by the caller so far.
  canceledCount @8 () -> (count :UInt32);
  # Keeps `callback` until `releaseHeld` is called.
  hold @9 (callback :Callback) -> ();
  releaseHeld @10 () -> (count :UInt32);
  # Returns the capability it was given: calls pipelined on the result loop
  # back to the caller, which exercises Disembargo.
  echoCap @11 (callback :Callback) -> (callback :Callback);
}

enum ErrorType {
  failed @0;
  overloaded @1;
  disconnected @2;
  unimplemented @3;
}

interface Counter {
  next @0 () -> (value :Int64);
}

interface Callback {
  call @0 (value :Int64) -> (result :Int64);
}

# Inheritance: dispatch must go by (interface id, method id).
interface ExtendedTester extends(Tester) {
  describe @0 () -> (text :Text);
}
