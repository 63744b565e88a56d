/**
 * The notes store: plain objects implementing the generated interfaces,
 * with no trace of Cap'n Proto. Notes are kept in `<datadir>/notes/notes.json`,
 * replaced atomically on every write; watchers a caller hands over are
 * kept with `dup()` (a parameter is only lent for the call) and released
 * with the store.
 *
 * @example
 * ```ts
 * import { FileNotesInit } from "./notes.ts";
 * const datadir = await Deno.makeTempDir();
 * {
 *   using notes = new FileNotesInit(datadir).makeNotes();
 *   notes.write("todo", "milk");
 *   if (notes.read("todo") !== "milk") throw new Error("read back what was written");
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 * @module
 */
import { dup, readFileIfExists, release, writeFileAtomic } from "@capdeno/runtime/component";
import type { Lent } from "@capdeno/runtime/component";
import type { Notes, NotesInit, Watcher } from "./gen/notes.mp.ts";

/** Titles: 1 to 100 characters, no control characters. */
// deno-lint-ignore no-control-regex -- the control characters are what it refuses.
const TITLE = /^[^\x00-\x1f\x7f]{1,100}$/;

/** A store of notes in one JSON file. */
export class FileNotes implements Notes, Disposable {
  readonly #file: string;
  readonly #notes: Map<string, string>;
  readonly #watchers: Watcher[] = [];

  /** Opens the store kept in `dir` (created when missing). */
  constructor(dir: string) {
    Deno.mkdirSync(dir, { recursive: true });
    this.#file = `${dir}/notes.json`;
    const text = readFileIfExists(this.#file);
    this.#notes = new Map(Object.entries(text === null ? {} : JSON.parse(text)));
  }

  /** The note titled `title`, if there is one. */
  read(title: string): string | undefined {
    return this.#notes.get(title);
  }

  /** Writes a note and tells every watcher; a bad title is refused in one line. */
  write(title: string, text: string): void {
    if (!TITLE.test(title)) {
      throw new Error(
        `a title is 1 to 100 characters without control characters, got ${JSON.stringify(title)}`,
      );
    }
    this.#notes.set(title, text);
    writeFileAtomic(this.#file, JSON.stringify(Object.fromEntries(this.#notes)));
    for (const watcher of this.#watchers) {
      // A watcher that went away must not fail the write.
      Promise.resolve(watcher.written(title)).catch(() => {});
    }
  }

  /** Every title, sorted. */
  titles(): string[] {
    return [...this.#notes.keys()].sort();
  }

  /** Keeps `watcher` (lent for this call, so kept by `dup`) until the store is released. */
  watch(watcher: Lent<Watcher> | null): void {
    if (watcher !== null) this.#watchers.push(dup(watcher));
  }

  /** Releases the watchers. */
  [Symbol.dispose](): void {
    for (const watcher of this.#watchers.splice(0)) release(watcher);
  }
}

/** The component's Init: each `makeNotes` opens the store under `<datadir>/notes`. */
export class FileNotesInit implements NotesInit {
  /** An Init for the component whose data directory is `datadir`. */
  constructor(readonly datadir: string) {}

  /** Opens the store under `<datadir>/notes`; the caller owns it. */
  makeNotes(): FileNotes {
    return new FileNotes(`${this.datadir}/notes`);
  }
}
