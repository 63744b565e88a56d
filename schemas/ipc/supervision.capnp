# What the launcher (the process that supervises the components) tells a
# user interface about them, and what it lets it do: the process tree with
# each component's grants, limits, usage and audit, restart and stop, and
# the IPC calls seen on the components' `-debug=ipc` streams. Served by the
# launcher (components/supervision.ts) and handed to the gui through
# `GuiInit.start`.
#
# This project's own interface and file id.
@0x8f6d95267faaf741;

using Proxy = import "/mp/proxy.capnp";
using Handler = import "handler.capnp";

interface Supervision {
  # Releases the object at once.
  destroy @0 (context :Proxy.Context) -> ();
  # Every component the launcher knows, itself first.
  listComponents @1 (context :Proxy.Context) -> (result :List(ComponentInfo));
  # Restarts the named component (kills it; its supervisor starts it again,
  # its dependants re-attach). An error naming the cause when it cannot.
  restartComponent @2 (context :Proxy.Context, name :Text) -> ();
  # Stops the named component for good (until the launcher is restarted).
  stopComponent @3 (context :Proxy.Context, name :Text) -> ();
  # Registers `callback`, called with every change of the components (and
  # at least every `intervalMs` with fresh usage figures) and with batches of
  # finished IPC calls, until the handler is disconnected or released.
  watch @4 (context :Proxy.Context, callback :SupervisionEvents, intervalMs :UInt32) -> (result :Handler.Handler);
}

# Receives what `Supervision.watch` reports.
interface SupervisionEvents {
  destroy @0 (context :Proxy.Context) -> ();
  # The components as they are now.
  components @1 (context :Proxy.Context, components :List(ComponentInfo)) -> ();
  # IPC calls finished since the last batch.
  ipcCalls @2 (context :Proxy.Context, calls :List(IpcCall)) -> ();
}

struct ComponentInfo {
  # The manifest's name ("node", "gui"), or "launcher".
  name @0 :Text;
  # Who started it ("launcher", or "" for the launcher itself).
  parent @1 :Text;
  # 0 while it is not running.
  pid @2 :Int32;
  # "running", "restarting", "failed", "stopped", or "attached" (not started
  # by this launcher: it only connects to it).
  state @3 :Text;
  # Milliseconds since the epoch at which the running instance started (0 if none).
  startedAt @4 :Float64;
  # Restarts so far.
  restarts @5 :UInt32;
  # Resident memory in bytes and CPU seconds used by the running instance.
  residentBytes @6 :UInt64;
  cpuSeconds @7 :Float64;
  # The exact `--allow-*` flags (and `--deny-*`) its Deno was started with.
  permissions @8 :List(Text);
  # Its limits, e.g. "heapMb=128", "residentMb=256", "cpuSeconds=3600".
  limits @9 :List(Text);
  # What the permission audit found outside its grants, one line each.
  audit @10 :List(Text);
  # Why the last instance ended ("" when it has not).
  lastExit @11 :Text;
}

struct IpcCall {
  # Milliseconds since the epoch at which the call was sent.
  at @0 :Float64;
  caller @1 :Text;
  callee @2 :Text;
  # "Interface.method".
  method @3 :Text;
  durationMs @4 :Float64;
  # False when it ended with an exception.
  ok @5 :Bool;
}
