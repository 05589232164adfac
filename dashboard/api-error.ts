// Errors the API answers with: an HTTP status and a body {code, message} (plus fields such as
// `leader`). Handlers throw them; the app's error handler turns them into replies.

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const notFound = (message: string) => new ApiError(404, 'NOT_FOUND', message);
export const conflict = (code: string, message: string, extra?: Record<string, unknown>) => new ApiError(409, code, message, extra);
export const badRequest = (message: string) => new ApiError(400, 'BAD_REQUEST', message);

/** "0-511, 600, 700-703" for a sorted list of slot ids (error texts name every slot, compactly). */
export function formatSlotList(slots: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < slots.length) {
    let j = i;
    while (j + 1 < slots.length && slots[j + 1] === slots[j]! + 1) j++;
    parts.push(i === j ? `${slots[i]}` : `${slots[i]}-${slots[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
