// Sends the outbox's sales to the server exactly once each, in the order they were rung up.
// Every sale carries its own Idempotency-Key and an unchanging body, so a retry after a lost
// answer gets the first sale back (the server replays it) instead of a second one.
// 2xx (first answer or Idempotent-Replayed) → done; 409/422 and other refusals → kept as
// "rejected" for the cashier, never dropped; network errors, timeouts, 408/429/5xx and 409
// payment_pending (the same sale is still charging its 付款码) → retried with backoff, and
// later sales wait behind them; 401 → paused until the cashier signs in again.
import { markSynced, outboxItem, outboxItems, updateItem } from './pos-store.js';

const salesPath = '/api/v1/pos/sales';

/**
 * How one attempt ended: done, rejected, retry or signed_out. 409 payment_pending is no refusal:
 * an earlier send of this sale is still charging the code, and the sale may yet be made.
 */
export function classify(status, code = '') {
  if (status >= 200 && status < 300) return 'done';
  if (status === 401) return 'signed_out';
  if (status === 0 || status === 408 || status === 429 || status >= 500) return 'retry';
  if (status === 409 && code === 'payment_pending') return 'retry';
  return 'rejected';
}

/** A sale with a 付款码 waits for the customer's password (up to 30 s on the server). */
function codeTimeout(item) {
  return item?.body?.tenders?.some((tender) => tender.auth_code) ? 60000 : 10000;
}

/** One POST of a queued sale; resolves to {kind, status, sale?, error?, replayed?}. */
export async function sendSale(item, timeoutMs = codeTimeout(item)) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetch(salesPath, {
      method: 'POST',
      credentials: 'same-origin',
      signal: abort.signal,
      headers: {
        'X-Requested-With': 'yizhan',
        Accept: 'application/json',
        'Content-Type': 'application/json',
        'Idempotency-Key': item.key,
      },
      body: JSON.stringify(item.body),
    });
    const data = await response.json().catch(() => null);
    const kind = classify(response.status, data?.error?.code);
    return {
      kind,
      status: response.status,
      sale: kind === 'done' ? data : undefined,
      replayed: response.headers.get('Idempotent-Replayed') === 'true',
      error: kind === 'done' ? null
        : { code: data?.error?.code ?? 'internal', message: data?.error?.message ?? response.statusText,
            details: data?.error?.details ?? {} },
    };
  } catch {
    return { kind: 'retry', status: 0, error: { code: 'unavailable', message: 'network error', details: {} } };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The outbox's sender. Events: "change" (the outbox changed: badge), "online" / "offline" (what
 * the last request found), "synced" ({detail: {item, sale}}), "rejected" ({detail: {item}}),
 * "signed_out".
 */
export class SaleSync extends EventTarget {
  constructor({ send = sendSale, minDelayMs = 1000, maxDelayMs = 30000 } = {}) {
    super();
    this.send = send;
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.failures = 0;
    this.timer = null;
    this.running = null;
    this.again = false;
    this.waiters = new Map();  // seq → resolve(outcome) for the page waiting on a fresh sale
    this.online = true;
  }

  /** Starts a pass now (or right after the one running). */
  kick() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.#runLocked().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
    return this.running;
  }

  /** Resolves with the outcome of the sale `seq` once a pass reaches it (or cannot). */
  outcomeOf(seq) {
    return new Promise((resolve) => this.waiters.set(seq, resolve));
  }

  #settle(seq, outcome) {
    const resolve = this.waiters.get(seq);
    if (resolve) {
      this.waiters.delete(seq);
      resolve(outcome);
    }
  }

  #setOnline(online) {
    if (this.online === online) return;
    this.online = online;
    this.dispatchEvent(new Event(online ? 'online' : 'offline'));
  }

  /** One tab sends at a time (Web Locks), so two tabs never race on one queue. */
  async #runLocked() {
    if (globalThis.navigator?.locks) {
      await navigator.locks.request('yizhan-pos-sync', () => this.#run());
    } else {
      await this.#run();
    }
  }

  async #run() {
    let blocked = null;
    for (const queued of await outboxItems()) {
      if (queued.state !== 'waiting') continue;
      const outcome = await this.send(queued);
      // Re-read: the page may have marked the sale as handed over while it was in flight.
      const item = (await outboxItem(queued.seq)) ?? queued;
      item.attempts += 1;
      item.last_attempt_at = new Date().toISOString();
      if (outcome.kind === 'done') {
        this.failures = 0;
        this.#setOnline(true);
        await markSynced(item, outcome.sale);
        this.dispatchEvent(new CustomEvent('synced', { detail: { item, sale: outcome.sale, replayed: outcome.replayed } }));
      } else if (outcome.kind === 'rejected') {
        this.#setOnline(true);
        item.state = 'rejected';
        item.error = outcome.error;
        item.status = outcome.status;
        await updateItem(item);
        this.dispatchEvent(new CustomEvent('rejected', { detail: { item } }));
      } else {
        item.error = outcome.error;
        item.status = outcome.status;
        await updateItem(item);
        if (outcome.status === 0) this.#setOnline(false);
        if (outcome.kind === 'signed_out') this.dispatchEvent(new Event('signed_out'));
        blocked = outcome;
      }
      this.dispatchEvent(new Event('change'));
      this.#settle(item.seq, { ...outcome, item });
      if (blocked) break;
    }
    // Sales behind a blocked one wait; tell the page so it does not wait with them.
    if (blocked) for (const seq of [...this.waiters.keys()]) this.#settle(seq, { ...blocked, kind: 'blocked' });
    if (blocked && blocked.kind !== 'signed_out') {
      this.failures += 1;
      const delay = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** (this.failures - 1));
      this.timer = setTimeout(() => this.kick(), delay * (0.8 + 0.4 * Math.random()));
    }
  }

  /** How many sales wait and how many the server refused. */
  async counts() {
    const items = await outboxItems();
    return {
      waiting: items.filter((item) => item.state === 'waiting').length,
      rejected: items.filter((item) => item.state === 'rejected').length,
    };
  }
}
