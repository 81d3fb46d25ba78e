/**
 * A value the tests of a file share (a decoder, the decoded fixtures), computed on first use inside a test: never at
 * module or describe level.
 * @dev for `npm run test:mutation`: Stryker records which mutants each test executes and tests a mutant against those
 * tests only. Code run outside any test counts for all of them (a "static" mutant, which needs the whole suite),
 * and a value cached by the first test that asks would count for that test alone; so what computing the value
 * executed is credited to every test that reads it. Outside Stryker this is a plain lazy value.
 */

/** The part of Stryker's global namespace (`__stryker__`) that per-test coverage uses. */
type StrykerNs = {
  currentTestId?: string;
  mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> };
};

/** `make()` once, on the first call; each call credits the current test with what `make` executed. */
export function shared<T>(make: () => T): () => T {
  let done = false;
  let value: T;
  let hits: Record<string, number> | undefined;
  return () => {
    const ns = (globalThis as { __stryker__?: StrykerNs }).__stryker__;
    const test = ns?.currentTestId;
    if (!done) {
      if (ns && test !== undefined) {
        const own = `${test}#shared`;
        ns.currentTestId = own;
        try {
          value = make();
        } finally {
          ns.currentTestId = test;
        }
        hits = ns.mutantCoverage?.perTest[own];
        if (hits) delete ns.mutantCoverage!.perTest[own];
      } else value = make();
      done = true;
    }
    if (hits && ns?.mutantCoverage && test !== undefined) {
      const mine = (ns.mutantCoverage.perTest[test] ??= {});
      for (const [id, n] of Object.entries(hits)) mine[id] = (mine[id] ?? 0) + n;
    }
    return value!;
  };
}
