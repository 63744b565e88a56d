/**
 * The host side of the runtime: what a launcher imports to start components
 * under the sandbox and keep them running. A component is a folder with a
 * `manifest.json` ({@linkcode loadComponent}); {@linkcode spawnComponent}
 * starts it with exactly the permissions and limits its manifest grants,
 * after checking where its code comes from; a {@linkcode Supervisor} restarts
 * components by policy and health-checks listeners; {@linkcode summarizeAudit}
 * reads what they tried outside their grants.
 *
 * @example Start a component under supervision and call it
 * ```ts
 * import { loadComponent, projectRoot, Supervisor } from "./host.ts";
 * import { FooInit } from "./examples/schemas/gen/conformance.mp.ts";
 *
 * const stateDir = await Deno.makeTempDir();
 * {
 *   await using supervisor = new Supervisor({ stateDir });
 *   const foo = await supervisor.start(FooInit, await loadComponent(`${projectRoot()}/examples/foo`));
 *   await using remote = (await (await foo.current()).makeFoo())!;
 *   if (await remote.add(2, 3) !== 5) throw new Error("2 + 3 is 5");
 * }
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 * @module
 */
export {
  applyGrants,
  checkConnections,
  type Component,
  type Grant,
  loadComponent,
  type Manifest,
  ManifestError,
  parseGrant,
  parseManifest,
  type PermissionKind,
} from "./sandbox/manifest.ts";
export {
  type CommandOptions,
  componentCodePolicy,
  projectRoot,
  type RunPaths,
  sandboxCommand,
  type SandboxedComponent,
  SandboxError,
  spawnComponent,
  type SpawnComponentOptions,
  type StateLayout,
  stateLayout,
  unsearchableAncestor,
} from "./sandbox/contract.ts";
export {
  checkProvenance,
  type CodePolicy,
  prepareCode,
  type PreparedCode,
  ProvenanceError,
} from "./sandbox/provenance.ts";
export type { Identity } from "./sandbox/identity.ts";
export type { OutsideDirectory } from "./sandbox/datadir.ts";
export {
  type ExitEvidence,
  type ExitKind,
  type ExitReason,
  exitReason,
  type TreeUsage,
  treeUsage,
  type UsageWatch,
  watchUsage,
} from "./sandbox/limits.ts";
export { bwrapPath } from "./sandbox/hardened.ts";
export { MAX_RELAYED_CONNECTIONS, type Relay, relaySocket } from "./sandbox/relay.ts";
export {
  DEFAULT_HEALTH_CHECK,
  type ExitRecord,
  type ExternalListener,
  type HealthCheckOptions,
  type StopSignal,
  type Supervised,
  SupervisionError,
  Supervisor,
  type SupervisorOptions,
} from "./sandbox/supervisor.ts";
export {
  entryComponent,
  entryOf,
  type InterfaceTable,
  loadTopology,
  parseTopology,
  type RestartStrategy,
  selectEntries,
  StartedTopology,
  startTopology,
  type Topology,
  type TopologyEntry,
  TopologyError,
  wiringOf,
} from "./sandbox/topology.ts";
export { type AuditSummary, formatAudit, summarizeAudit } from "./sandbox/audit.ts";
export {
  type ChildCommand,
  connect,
  type ConnectOptions,
  DEFAULT_START_TIMEOUT_MS,
  denoCommand,
  type DenoCommandOptions,
  type ExitStatus,
  spawn,
  type SpawnedComponent,
  SpawnError,
  type SpawnOptions,
} from "./runtime/process/process.ts";
export {
  DEFAULT_OUTPUT_LIMITS,
  LineForwarder,
  type OutputLimits,
  type OutputStream,
} from "./runtime/process/output.ts";
export { newToken, TOKEN_BYTES } from "./runtime/process/lifeline.ts";
export { readCookie } from "./runtime/process/cookie.ts";
