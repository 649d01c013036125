import * as prettier from 'prettier';

/**
 * A report's text formatted as the repository's prettier would format it: `npm test` runs
 * `prettier --check .`, so a committed report must already be formatted. Falls back to the text
 * as given (newline-terminated) if prettier cannot parse it.
 */
export async function formatReport(text: string, filepath: string): Promise<string> {
  try {
    const config = (await prettier.resolveConfig(filepath)) ?? {};
    return await prettier.format(text, { ...config, filepath });
  } catch {
    return text.endsWith('\n') ? text : `${text}\n`;
  }
}
