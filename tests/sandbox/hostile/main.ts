/**
 * The hostile component of the sandbox escape suite: serves `ProberInit`
 * (tests/sandbox/fixtures/schema/probe.capnp), whose `probe(name, target)` attempts one escape
 * from the table in `probes.ts` and returns its outcome line. Served to the
 * parent when spawned (`-ipcfd`), else on every `-ipcbind` address,
 * printing READY.
 *
 * Imports only the runtime, the schemas and its own folder, as every
 * component must (the provenance check refuses anything else).
 *
 * @module
 */
import { ProberInit } from "../fixtures/schema/gen/probe.mp.ts";
import { serveComponent } from "../../../runtime/component.ts";
import { installGuards, probeNames, runProbe } from "./probes.ts";
import { ABUSES } from "./abuses.ts";

/** The Init object: runs probes (`probes.ts`) and abuses (`abuses.ts`) by name. */
export function proberInit(): ProberInit {
  return {
    probe: (name, target) =>
      Object.hasOwn(ABUSES, name) ? ABUSES[name](target) : runProbe(name, target),
    names: () => [...probeNames(), ...Object.keys(ABUSES)],
  };
}

if (import.meta.main) {
  installGuards();
  await serveComponent(ProberInit, "hostile", proberInit());
}
