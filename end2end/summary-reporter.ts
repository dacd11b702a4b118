import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

// Prints one closing line in the plain form CI reads: "playwright: N passed, N failed".
class SummaryReporter implements Reporter {
  private passed = 0;
  private failed = 0;
  private skipped = 0;

  onTestEnd(test: TestCase, result: TestResult) {
    if (result.status === 'skipped') this.skipped++;
    else if (test.outcome() === 'expected' || test.outcome() === 'flaky') {
      if (result.status === 'passed') this.passed++;
    } else if (result.retry === test.retries) this.failed++;
  }

  onEnd(_result: FullResult) {
    const skipped = this.skipped ? `, ${this.skipped} skipped` : '';
    console.log(`playwright: ${this.passed} passed, ${this.failed} failed${skipped}`);
  }
}

export default SummaryReporter;
