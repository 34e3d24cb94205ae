// What the page tests share: Debian's Chromium, a context signed in through the API (waiting out
// the sign-in throttle that pages.test.mjs provokes), JSON calls with the same-site header, the
// admin's shift, page and console errors, CSV rows, and money as the pages print it.
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { parse as parseCsvText } from 'csv-parse/sync';

export const base = process.env.BASE_URL;
export const password = process.env.DEMO_PASSWORD;
export const artifacts = process.env.ARTIFACTS;
export const phone = { width: 390, height: 844 };
export const desktop = { width: 1280, height: 900 };

export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export const shanghaiToday = () => new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
export const yuan = (fen) => `${fen < 0 ? '-' : ''}${Math.trunc(Math.abs(fen) / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`;
export const money = (fen) => `${fen < 0 ? '-' : ''}¥${yuan(Math.abs(fen))}`;

/** A context signed in as `username` through the API (its pages and `request` share the cookie). */
export async function signedIn(browser, username, { viewport = phone, ...options } = {}) {
  const mobile = viewport === phone;
  const context = await browser.newContext({
    viewport, locale: 'zh-CN', baseURL: base, isMobile: mobile, hasTouch: mobile, ...options,
  });
  let answer;
  for (let attempt = 0; attempt < 15; attempt++) {
    answer = await context.request.post('/api/v1/auth/login', {
      headers: { 'X-Requested-With': 'yizhan' }, data: { username, password },
    });
    if (answer.status() !== 429) break;
    await new Promise((resolve) => setTimeout(resolve, 1000 * (Number(answer.headers()['retry-after']) || 2)));
  }
  assert.equal(answer.status(), 200, `${username} signs in`);
  return context;
}

/** One API call in `context`: the status and the body (JSON when it parses, else the text). */
export async function call(context, method, path, data, headers = {}) {
  const response = await context.request.fetch(path, {
    method, data, headers: { 'X-Requested-With': 'yizhan', ...headers },
  });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  return { status: response.status(), body };
}

/** The admin's open shift, opened on a free register when there is none. */
export async function openShift(admin) {
  const current = await call(admin, 'GET', '/api/v1/pos/shifts/current');
  if (current.status === 200) return { shift: current.body, opened: false };
  for (const register of ['柜台2', '柜台1']) {
    const opened = await call(admin, 'POST', '/api/v1/pos/shifts', { register, float_fen: 0 });
    if (opened.status === 201) return { shift: opened.body, opened: true };
  }
  throw new Error('no register free for the admin');
}

/** Page errors and console errors (expected 4xx answers are logged as resource errors). */
export function watch(page) {
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  return problems;
}

/**
 * The manager's pages (/admin/) in a new page of a signed-in context, once its product list has
 * loaded, on the tab whose button is named `tab` when given: { page, problems }.
 */
export async function openAdmin(context, tab = null) {
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${base}/admin/`);
  await page.locator('#product-rows tr').first().waitFor();
  if (tab) await page.getByRole('button', { name: tab }).click();
  return { page, problems };
}

/** CSV rows as arrays of fields, read by csv-parse (quotes, doubled quotes, CRLF, BOM). */
export function parseCsv(text) {
  return parseCsvText(text, { bom: true, skip_empty_lines: true, relax_column_count: true });
}
