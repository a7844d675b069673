/**
 * The result of a validation that does not throw: `{ _tag: 'Left', left: error }` or
 * `{ _tag: 'Right', right: value }`. The shape is fp-ts's `Either`, so fp-ts users can pass it to
 * `E.isLeft`, `E.match`, `pipe(...)` unchanged; core itself needs none of fp-ts's machinery (and
 * browsers do not download it).
 */
export type Either<E, A> = { readonly _tag: 'Left'; readonly left: E } | { readonly _tag: 'Right'; readonly right: A };

/** A failed result. */
export const left = <E, A = never>(error: E): Either<E, A> => ({ _tag: 'Left', left: error });
/** A successful result. */
export const right = <A, E = never>(value: A): Either<E, A> => ({ _tag: 'Right', right: value });
/** Whether `result` failed. */
export const isLeft = <E, A>(result: Either<E, A>): result is { readonly _tag: 'Left'; readonly left: E } => result._tag === 'Left';
