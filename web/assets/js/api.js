// The one way pages talk to the API: JSON in and out, the CSRF header, the error envelope.

/** An API error: `code` from the envelope ("invalid", "not_found", …), `status`, `details`. */
export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details ?? {};
    this.retryAfter = retryAfter;
  }
}

/** Calls the API; resolves to the JSON body (or null for 204), rejects with ApiError. */
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const options = {
    method,
    credentials: 'same-origin',
    headers: { 'X-Requested-With': 'yizhan', Accept: 'application/json', ...headers },
  };
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    options.body = body;
  } else if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, 'unavailable', 'network error');
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new ApiError(response.status, error.code ?? 'internal', error.message ?? response.statusText,
                       error.details, Number(response.headers.get('Retry-After')) || undefined);
  }
  return data;
}

/** Formats integer fen as yuan: 1230 → "¥12.30". The only money formatting in the pages. */
export function formatFen(fen) {
  const negative = fen < 0;
  const magnitude = Math.abs(fen);
  const yuan = Math.trunc(magnitude / 100);
  const cents = String(magnitude % 100).padStart(2, '0');
  return `${negative ? '-' : ''}¥${yuan}.${cents}`;
}

/** Parses yuan typed by a person ("12.3", "12.30", "¥12") into integer fen; null if not money. */
export function parseYuan(text) {
  const match = /^\s*¥?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text ?? '');
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** Integer fen as the text an input shows: 1230 → "12.30". */
export function fenToInput(fen) {
  return formatFen(fen).replace('¥', '');
}

/** The signed-in user, or null. */
export async function currentUser() {
  try {
    return (await api('/api/v1/me')).user;
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

/** For staff and village pages: the user if their role may see the page, else off to login. */
export async function requireRole(roles) {
  const user = await currentUser();
  if (!user || !roles.includes(user.role)) {
    location.href = `/login.html?next=${encodeURIComponent(location.pathname)}`;
    return null;
  }
  return user;
}
