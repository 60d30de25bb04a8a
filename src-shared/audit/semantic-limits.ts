/**
 * Where the wizard and `startRun` draw the line between an audit that only deserves a
 * warning and one that is refused. Shared so the wizard can state the rule it applies.
 */

/** An estimate above this many hours (on this machine's backend) is worth a warning. */
export const ESTIMATE_WARN_HOURS = 4;
/** An estimate above this (a week) is refused, naming the field that drives it. */
export const ESTIMATE_CEILING_HOURS = 7 * 24;
/** An S_LTD share smaller than this many images per class is worth a warning. */
export const MIN_SUBSTITUTE_PER_CLASS = 10;

/** What the wizard says about the two kinds of check. */
export const CHECK_RULES = {
  blocking: `Problems block the start: the audit cannot work as set (a DeepJudge block the victim does not have, a reused calibration of another victim or with other defence parameters, an estimate above ${ESTIMATE_CEILING_HOURS / 24} days).`,
  warning: `Warnings do not: the audit runs, but probably not as meant (more workers than cores, an estimate above ${ESTIMATE_WARN_HOURS} hours, an S_LTD share under ${MIN_SUBSTITUTE_PER_CLASS} images per class, a reused calibration on few or weak reference models).`,
} as const;
