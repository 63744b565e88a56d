/**
 * Bounded validation of received messages, before anything reads them.
 *
 * Walks every pointer reachable from the root, checking bounds and counting
 * the words each object occupies against a traversal budget, the way the C++
 * reader does while reading. A message whose pointers alias one large object
 * (1024 pointers to one 1 MiB text) therefore counts as the 1 GiB it would
 * expand to and is refused at once. Beyond C++, the budget also shrinks
 * with the message: a few hundred bytes of shared pointers may not cost as
 * much to check as 64 MiB. The walk stops at the nesting limit (a
 * pointer cycle reaches it too) and says so: C++ fails only a read that goes
 * that deep, so an RPC connection fails only the call whose content does.
 * Readers are then free to access the message, down to that limit, without
 * per-access budgets.
 *
 * @module
 */
import { FrameView } from "./framing.ts";

/** Limits for received data; the first two are the C++ reference's. */
export interface ReadLimits {
  /** Words that may be reached from the root, counting aliases each time. Default 8 Mi (64 MiB). */
  traversalLimitWords: number;
  /** Deepest nesting of structs and lists (Text and Data not counted, as in C++). Default 64. */
  nestingLimit: number;
  /**
   * Words that may be reached per word the message holds, on top of
   * {@linkcode TRAVERSAL_ALLOWANCE_WORDS}: with pointers
   * that share what they point at, a message of a few hundred bytes would
   * cost as much to check as one of 64 MiB, so a peer could spend this
   * side's CPU a hundred thousand times faster than its own bandwidth.
   * Writers never share, so honest messages reach each word once. Objects
   * of no size (empty structs, the elements of lists of voids or of empty
   * structs) are charged a word each against `traversalLimitWords` alone,
   * as in C++: checking them costs nothing per element. C++ has no such
   * limit. Default 4.
   */
  traversalPerMessageWord: number;
}

/**
 * Words any message may reach beyond `traversalPerMessageWord` times its
 * size, a few microseconds of checking: a small message whose pointers
 * loop is then walked to the nesting limit and fails only the call that
 * holds it, as in C++, instead of the connection.
 */
export const TRAVERSAL_ALLOWANCE_WORDS = 8192;

/** The C++ reference implementation's read limits, and one of ours against amplification. */
export const DEFAULT_READ_LIMITS: Readonly<ReadLimits> = Object.freeze({
  traversalLimitWords: 8 * 1024 * 1024,
  nestingLimit: 64,
  traversalPerMessageWord: 4,
});

/** Thrown for a message that is malformed or exceeds a read limit. */
export class MessageValidationError extends Error {
  /** Always `"MessageValidationError"`. */
  override name = "MessageValidationError";
}

const STRUCT = 0, LIST = 1, FAR = 2;
const BYTE = 2, COMPOSITE = 7;
/** Bits per element for list element sizes 0..6. */
const ELEMENT_BITS = [0, 1, 8, 16, 32, 64, 64];

/**
 * Checks `segments` against `limits`, nesting included; returns the words
 * counted.
 *
 * @throws {MessageValidationError} with the C++ wording where one exists.
 *
 * @example A root struct of one data word, whole and cut short
 * ```ts
 * import { MessageValidationError, validateMessage } from "./validate.ts";
 * const segment = new DataView(new ArrayBuffer(16));
 * segment.setUint32(4, 1, true); // root pointer: a struct right after it, 1 data word, 0 pointers
 * if (validateMessage([segment.buffer]) !== 1) throw new Error("one word counted");
 * let refused = "";
 * try {
 *   validateMessage([segment.buffer.slice(0, 8)]);
 * } catch (error) {
 *   if (error instanceof MessageValidationError) refused = error.message;
 * }
 * if (refused !== "Message contains out-of-bounds pointer.") throw new Error(refused);
 * ```
 */
export function validateMessage(
  segments: ArrayBuffer[],
  limits: ReadLimits = DEFAULT_READ_LIMITS,
): number {
  const check = validateFrame(FrameView.of(segments), limits);
  if (check.tooDeep) throw new MessageValidationError(TOO_DEEP);
  return check.words;
}

/** C++'s words for a message nested deeper than its reader's limit. */
export const TOO_DEEP = "Message is too deeply-nested or contains cycles.";

/** What {@linkcode validateFrame} found in a message it accepted. */
export interface FrameCheck {
  /** Words counted against `traversalLimitWords`, objects of no size a word each (as in C++). */
  readonly words: number;
  /** Of those, the words charged for objects of no size, which the message does not hold. */
  readonly emptyWords: number;
  /** Words the message holds, its segments' sum. */
  readonly messageWords: number;
  /** Far pointers followed: a message without any can be read at any offset in its buffer. */
  readonly farPointers: number;
  /**
   * Some object lies deeper than the nesting limit, or in a pointer cycle:
   * the walk stopped there, so nothing at that depth was checked, and
   * nothing there may be read.
   */
  readonly tooDeep: boolean;
}

/**
 * Checks a message read in place (see {@linkcode validateMessage}), down to
 * the nesting limit: what lies deeper is left unchecked and reported as
 * {@linkcode FrameCheck.tooDeep}, so the caller can fail just the part that
 * reaches it.
 *
 * @throws {MessageValidationError} with the C++ wording where one exists.
 *
 * @example
 * ```ts
 * import { FrameView } from "./framing.ts";
 * import { DEFAULT_READ_LIMITS, validateFrame } from "./validate.ts";
 * // A far pointer in segment 0 to a landing pad in segment 1, whose struct has one data word.
 * const first = new DataView(new ArrayBuffer(8));
 * first.setUint32(0, 2, true); // far, landing pad at word 0
 * first.setUint32(4, 1, true); // of segment 1
 * const second = new DataView(new ArrayBuffer(16));
 * second.setUint32(4, 1, true); // struct right after the pad: 1 data word
 * const frame = FrameView.of([first.buffer, second.buffer]);
 * const check = validateFrame(frame);
 * if (check.words !== 1 || check.farPointers !== 1 || check.tooDeep) {
 *   throw new Error(JSON.stringify(check));
 * }
 * // With no nesting allowed, the struct is left unchecked and reported.
 * const shallow = validateFrame(frame, { ...DEFAULT_READ_LIMITS, nestingLimit: 0 });
 * if (!shallow.tooDeep || shallow.words !== 0) throw new Error(JSON.stringify(shallow));
 * ```
 */
export function validateFrame(
  frame: FrameView,
  limits: ReadLimits = DEFAULT_READ_LIMITS,
): FrameCheck {
  if (frame.count === 0 || frame.lengths[0]! < 8) {
    throw new MessageValidationError("Message ends prematurely in first segment.");
  }
  let messageWords = 0;
  for (let i = 0; i < frame.count; i++) messageWords += frame.lengths[i]! / 8;
  // Limits written before this one existed leave it out: they get its default.
  const perWord = limits.traversalPerMessageWord ?? DEFAULT_READ_LIMITS.traversalPerMessageWord;
  const walker = new Walker(
    frame,
    limits.traversalLimitWords,
    messageWords,
    messageWords * perWord + TRAVERSAL_ALLOWANCE_WORDS,
  );
  walker.pointer(0, 0, limits.nestingLimit);
  return walker;
}

/** Walks a frame: positions are (segment, word in the segment). */
class Walker {
  readonly frame: FrameView;
  /** `traversalLimitWords`. */
  readonly limit: number;
  readonly messageWords: number;
  /** Words of objects with a size that may be reached, for `traversalPerMessageWord`. */
  readonly sizedBudget: number;
  words = 0;
  emptyWords = 0;
  farPointers = 0;
  tooDeep = false;

  constructor(frame: FrameView, limit: number, messageWords: number, sizedBudget: number) {
    this.frame = frame;
    this.limit = limit;
    this.messageWords = messageWords;
    this.sizedBudget = sizedBudget;
  }

  /** Charges `words` of objects the message holds and `empties` objects of no size, a word each. */
  charge(words: number, empties = 0): void {
    this.words += words + empties;
    this.emptyWords += empties;
    if (this.words > this.limit) {
      throw new MessageValidationError("Exceeded message traversal limit.");
    }
    if (this.words - this.emptyWords > this.sizedBudget) {
      throw new MessageValidationError(
        `Exceeded message traversal limit of ${this.sizedBudget} words for a message of ` +
          `${this.messageWords} (traversalPerMessageWord).`,
      );
    }
  }

  /** The two halves of word `word` of segment `seg` (which must exist). */
  lo(seg: number, word: number): number {
    return this.frame.views[seg]!.getUint32(this.frame.offsets[seg]! + word * 8, true);
  }

  hi(seg: number, word: number): number {
    return this.frame.views[seg]!.getUint32(this.frame.offsets[seg]! + word * 8 + 4, true);
  }

  /** Follows the pointer at word `word` of segment `seg`. */
  pointer(seg: number, word: number, depth: number): void {
    let lo = this.lo(seg, word);
    let hi = this.hi(seg, word);
    if (lo === 0 && hi === 0) return;
    // Where the object's content starts, as (segment, word).
    let contentSeg = seg;
    let contentWord: number;
    if ((lo & 3) === FAR) {
      this.farPointers++;
      const double = (lo & 4) !== 0;
      const padSeg = hi;
      const padWord = lo >>> 3;
      if (padSeg >= this.frame.count) {
        throw new MessageValidationError("Far pointer to unknown segment.");
      }
      this.bounds(padSeg, padWord, double ? 2 : 1);
      const padLo = this.lo(padSeg, padWord);
      const padHi = this.hi(padSeg, padWord);
      if (!double) {
        if ((padLo & 3) === FAR) {
          throw new MessageValidationError("Far pointer landing pad is far.");
        }
        seg = padSeg;
        word = padWord;
        lo = padLo;
        hi = padHi;
        contentSeg = seg;
        contentWord = word + 1 + (lo >> 2);
      } else {
        if ((padLo & 7) !== FAR) {
          throw new MessageValidationError("Double-far landing pad is not a far pointer.");
        }
        contentSeg = padHi;
        contentWord = padLo >>> 3;
        if (contentSeg >= this.frame.count) {
          throw new MessageValidationError("Far pointer to unknown segment.");
        }
        lo = this.lo(padSeg, padWord + 1);
        hi = this.hi(padSeg, padWord + 1);
        if ((lo >> 2) !== 0) {
          throw new MessageValidationError("Double-far tag has a non-zero offset.");
        }
      }
    } else {
      contentWord = word + 1 + (lo >> 2);
    }
    const kind = lo & 3;
    // C++ checks nesting when it reads a struct or a list, not Text or Data (byte lists here,
    // where nothing lies below them), so a value's last level may be its text.
    const nests = kind === STRUCT || (kind === LIST && (hi & 7) !== BYTE);
    if (nests && depth <= 0) {
      this.tooDeep = true;
    } else if (kind === STRUCT) {
      this.struct(contentSeg, contentWord, hi & 0xffff, hi >>> 16, depth - 1);
    } else if (kind === LIST) {
      this.list(contentSeg, contentWord, hi & 7, hi >>> 3, depth - 1);
    } else if (kind === FAR) {
      throw new MessageValidationError("Far pointer landing pad is far.");
    } else if ((lo >>> 2) !== 0) {
      throw new MessageValidationError("Unknown pointer type.");
    }
    // Capability pointers carry only an index, checked by the reader.
  }

  bounds(seg: number, word: number, words: number): void {
    if (word < 0 || word + words > this.frame.lengths[seg]! / 8) {
      throw new MessageValidationError("Message contains out-of-bounds pointer.");
    }
  }

  struct(seg: number, word: number, dataWords: number, ptrCount: number, depth: number): void {
    const size = dataWords + ptrCount;
    this.bounds(seg, word, size);
    // C++ charges at least one word for an empty struct against amplification.
    if (size === 0) this.charge(0, 1);
    else this.charge(size);
    for (let i = 0; i < ptrCount; i++) this.pointer(seg, word + dataWords + i, depth);
  }

  list(seg: number, word: number, elementSize: number, count: number, depth: number): void {
    if (elementSize === COMPOSITE) {
      this.bounds(seg, word, 1 + count);
      const tagLo = this.lo(seg, word);
      const tagHi = this.hi(seg, word);
      if ((tagLo & 3) !== STRUCT) {
        throw new MessageValidationError(
          "INLINE_COMPOSITE lists of non-STRUCT type are not supported.",
        );
      }
      const elements = tagLo >>> 2;
      const dataWords = tagHi & 0xffff;
      const ptrCount = tagHi >>> 16;
      const stride = dataWords + ptrCount;
      if (elements * stride > count) {
        throw new MessageValidationError(
          "INLINE_COMPOSITE list's elements overrun its word count.",
        );
      }
      // Zero-sized elements still cost a word each, as in C++.
      if (stride === 0) this.charge(1, elements);
      else this.charge(count + 1);
      if (ptrCount === 0) return;
      for (let e = 0; e < elements; e++) {
        const base = word + 1 + e * stride + dataWords;
        for (let i = 0; i < ptrCount; i++) this.pointer(seg, base + i, depth);
      }
      return;
    }
    if (elementSize === 6) {
      this.bounds(seg, word, count);
      this.charge(count);
      for (let i = 0; i < count; i++) this.pointer(seg, word + i, depth);
      return;
    }
    const words = Math.ceil((count * ELEMENT_BITS[elementSize]!) / 64);
    this.bounds(seg, word, words);
    if (elementSize === 0) this.charge(0, count);
    else this.charge(words);
  }
}
