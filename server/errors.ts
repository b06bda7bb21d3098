/**
 * One error envelope for every route: `{ error: { code, message } }` with a stable code.
 * Throw an AppError anywhere below a route; the error handler in app.ts renders it.
 */
export class AppError extends Error {
  constructor(
    public readonly code: string,
    public readonly statusCode: number,
    message: string,
    public readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, details?: unknown) => new AppError('bad_request', 400, message, details);
export const notFound = (code: string, message: string) => new AppError(code, 404, message);
export const forbidden = (code: string, message: string) => new AppError(code, 403, message);
export const unauthorized = (code: string, message: string) => new AppError(code, 401, message);

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export const errorBody = (code: string, message: string, details?: unknown): ErrorBody => ({
  error: details === undefined ? { code, message } : { code, message, details },
});
