# An example application's own interfaces: a notes store served by one
# sandboxed component, called from a launcher in another process.
@0x9c5b285253df9a77;

interface NotesInit {
  # No method here takes a Proxy.Context (calls run as they arrive), so the
  # Init needs no `construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap
  # :Proxy.ThreadMap)`; with one that did, it would.

  # A store of notes, owned by the caller.
  makeNotes @0 () -> (result :Notes);
}

interface Notes {
  # The note titled `title`, if there is one.
  read @0 (title :Text) -> (result :Text, hasResult :Bool);
  # Writes a note (kept in the component's data directory).
  write @1 (title :Text, text :Text) -> ();
  # Every title, sorted.
  titles @2 () -> (result :List(Text));
  # Calls `watcher` after every write until the store is released.
  watch @3 (watcher :Watcher) -> ();
}

interface Watcher {
  written @0 (title :Text) -> ();
}
