// The attribution part's public surface: gradient sketches, influence scoring, span matching, evaluation, epochs and payout batches (issue #5).
// Nothing is exported yet; other parts import this part only through this file once it exists.
export {};
