/**
 * The one HTTP error vocabulary. `expose` decides whether `message` reaches the client: 4xx
 * messages say what was wrong; 5xx answer "internal error" and are logged with context.
 */
export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly expose: boolean = status < 500,
  ) {
    super(message);
  }
}
