/**
 * Time ceilings for tests. They catch hangs; they never check speed: CI runs on shared
 * machines, so a test must pass however busy the two cores are. Each ceiling is at least 5x
 * the longest idle duration of what it guards, measured on the 2-core development machine
 * (the slowest test, the crash-safety resume, takes about a minute idle; a whole smoke audit
 * about 40 s). Speed is measured by benchmarks under bench/, never here.
 */

/** One test, and one beforeAll/afterAll hook. */
export const TEST_CEILING_MS = 600_000;

/** One wait inside a test (a child process, a state to reach): below TEST_CEILING_MS, so the wait's own message is what a hang reports. */
export const STEP_CEILING_MS = 480_000;
