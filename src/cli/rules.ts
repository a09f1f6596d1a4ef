// The rule commands load the engine lazily, so `seam replay` without rules starts fast.
export async function rulesLintCommand(paths: string[]): Promise<number> {
  const { lintCommand } = await import('../detect/sigma/lint.ts');
  return lintCommand(paths, process.stdout);
}

export async function rulesTestCommand(paths: string[]): Promise<number> {
  const { runRuleTests } = await import('../detect/rule-tests.ts');
  const r = await runRuleTests(paths, process.stdout);
  return r.failed === 0 && r.missing === 0 && r.errors === 0 ? 0 : 1;
}
