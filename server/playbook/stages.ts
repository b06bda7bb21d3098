/**
 * Touch stages: a customer's first touch is stage 1, the second stage 2, …; from the fourth on,
 * the stage stays MAX_STAGE. Scripts are written for a stage (or for any).
 *
 * Shared with the sidebar app at runtime: this module imports nothing and does no I/O, so the
 * bundle gets only these few lines (the import-graph test allows exactly such leaf modules).
 */

export const MAX_STAGE = 4;

/** The stage a customer is in after `touchCount` recorded touches. */
export const stageAfter = (touchCount: number): number => Math.min(MAX_STAGE, touchCount + 1);

/** Any number brought into 1…MAX_STAGE. */
export const clampStage = (stage: number): number => Math.min(MAX_STAGE, Math.max(1, Math.round(stage)));

/** Whether `n` names a stage (an integer in 1…MAX_STAGE). */
export const isStage = (n: unknown): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_STAGE;
