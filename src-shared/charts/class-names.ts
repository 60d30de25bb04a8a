/**
 * Class names in figures: a data set without names (no classes.txt beside IDX files) gets
 * "0", "1", ... from the loader, which a figure writes as "class 9" rather than a bare "9".
 */

/** Whether the names are real (not just the loader's "0", "1", ...). */
export function hasClassNames(classNames: readonly string[]): boolean {
  return classNames.length > 0 && !classNames.every((n, i) => n === String(i));
}

/** "Ankle boot" where the data set names its classes, "class 9" otherwise. */
export function className(classNames: readonly string[], c: number): string {
  return hasClassNames(classNames) && classNames[c] !== undefined ? classNames[c] : `class ${c}`;
}
