/**
 * The one error type the product throws on purpose. The HTTP error handler maps it to
 * application/problem+json; gRPC maps it to a status code; the CLI prints it.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string) => new AppError('not_found', 404, `${what} not found`);
export const forbidden = (message = 'You are not allowed to do this') => new AppError('forbidden', 403, message);
export const unauthorized = (message = 'Sign in first') => new AppError('unauthorized', 401, message);
export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(code, 400, message, details);
export const conflict = (code: string, message: string) => new AppError(code, 409, message);
