// The issue's targets judged for one run: a row per target with what was wanted, what was
// measured and PASS/FAIL (n/a where this run could not judge it), for the console and markdown.

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  /** null: not judged in this run (not measured, or not applicable). */
  pass: boolean | null;
}

const verdict = (p: boolean | null): string => (p === null ? 'n/a' : p ? 'PASS' : 'FAIL');

export function targetCheckRows(checks: readonly TargetCheck[]): string[][] {
  return [['target', 'wanted', 'measured', 'result'], ...checks.map((c) => [c.name, c.target, c.measured, verdict(c.pass)])];
}

/** "7 of 9 judged targets PASS (2 FAIL, 1 n/a)". */
export function targetSummary(checks: readonly TargetCheck[]): string {
  const judged = checks.filter((c) => c.pass !== null);
  const passed = judged.filter((c) => c.pass === true).length;
  const na = checks.length - judged.length;
  return `${passed} of ${judged.length} judged targets PASS (${judged.length - passed} FAIL${na > 0 ? `, ${na} n/a` : ''})`;
}
