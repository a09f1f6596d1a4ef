import type { InputPath } from '../sources/file/source.ts';

/**
 * `SEAM_ERR_INPUT_FILE: cannot read …` for the first input path that is missing, the line (and, exit 1, the code) the
 * replay itself fails with; undefined when every path is there. `seam run` and `seam replay` ask before they load the
 * rules, so a typo costs no second of rule loading (fresh-user walkthrough, session 33).
 */
export async function unreadableInputs(inputs: InputPath[]): Promise<string | undefined> {
  const { checkInputPaths } = await import('../sources/file/source.ts');
  try {
    await checkInputPaths(inputs);
    return undefined;
  } catch (e) {
    if ((e as { code?: string }).code !== 'SEAM_ERR_INPUT_FILE') throw e;
    return `SEAM_ERR_INPUT_FILE: ${(e as Error).message}`;
  }
}
