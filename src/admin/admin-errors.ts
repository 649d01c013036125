/** A refusal the admin page shows as a page (status + one sentence), never as a stack trace. */
export class AdminPageError extends Error {
  override readonly name = 'AdminPageError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
