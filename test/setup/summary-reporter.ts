import Mocha from 'mocha';

/**
 * Mocha's spec reporter plus one closing line in the plain form CI tooling reads:
 * `N passed, N failed, N skipped`.
 */
class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const stats = runner.stats;
      if (!stats) return;
      // After the spec reporter's own epilogue, which it prints on the same event.
      setImmediate(() =>
        process.stdout.write(`${stats.passes} passed, ${stats.failures} failed, ${stats.pending} skipped\n`),
      );
    });
  }
}

export = SpecWithSummary;
