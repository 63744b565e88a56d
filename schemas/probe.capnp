# Interfaces of the sandbox escape suite's test components
# (tests/sandbox/): a hostile component that attempts one escape per call,
# and a resource hog that exhausts memory or CPU, or exits, on request.
@0xcd8d5107c0684d41;

using Proxy = import "/mp/proxy.capnp";

# Bootstrap interface of tests/sandbox/hostile.
interface ProberInit {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  # Runs the probe `name` with `target` (a path, URL or host:port the test supplies, may be empty); returns its outcome line.
  probe @1 (context :Proxy.Context, name :Text, target :Text) -> (result :Text);
  # The names of all probes.
  names @2 (context :Proxy.Context) -> (result :List(Text));
}

# Bootstrap interface of tests/sandbox/fixtures/hog. None of the first three
# methods returns normally when the limits work.
interface HogInit {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  # Grows the JS heap by about `mb` MiB of live objects (until the heap limit ends the process).
  heap @1 (context :Proxy.Context, mb :Int32) -> ();
  # Allocates `mb` Uint8Arrays of 1 MiB, kept alive: memory outside the JS heap.
  buffers @2 (context :Proxy.Context, mb :Int32) -> ();
  # Burns CPU for `seconds` seconds.
  spin @3 (context :Proxy.Context, seconds :Int32) -> ();
  # Calls Deno.exit(code).
  crash @4 (context :Proxy.Context, code :Int32) -> ();
}
