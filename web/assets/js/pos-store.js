// What the counter keeps in the browser (IndexedDB through the `idb` library, pinned in
// web/package-lock.json): the catalog for offline selling, the outbox of sales waiting for the
// server, the sales it has confirmed, and small settings (who is signed in, the open shift).
import { openDB } from '../vendor/idb/index.js';

const databaseName = 'yizhan-pos';

let opened = null;

/** The database, created on first use. */
export function database() {
  opened ??= openDB(databaseName, 1, {
    upgrade(db) {
      const products = db.createObjectStore('products', { keyPath: 'id' });
      products.createIndex('barcode', 'barcode');
      // Sales in the order they were rung up; `seq` is that order.
      db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      // Sales the server confirmed, by Idempotency-Key (what a reprint or a check looks up).
      db.createObjectStore('synced', { keyPath: 'key' });
      db.createObjectStore('meta');
    },
  });
  return opened;
}

// --- catalog ---------------------------------------------------------------------------------

/** Replaces the cached catalog with `products`. */
export async function saveCatalog(products) {
  const db = await database();
  const transaction = db.transaction(['products', 'meta'], 'readwrite');
  await transaction.objectStore('products').clear();
  for (const product of products) transaction.objectStore('products').put(product);
  transaction.objectStore('meta').put(new Date().toISOString(), 'catalog_at');
  await transaction.done;
}

export async function cachedCatalog() {
  return (await database()).getAll('products');
}

// --- settings --------------------------------------------------------------------------------

export async function getMeta(name) {
  return (await database()).get('meta', name);
}

export async function setMeta(name, value) {
  const db = await database();
  if (value === undefined || value === null) await db.delete('meta', name);
  else await db.put('meta', value, name);
}

// --- outbox ----------------------------------------------------------------------------------

/**
 * Puts a sale in the outbox before it is sent: `key` (its Idempotency-Key, made once), `body`
 * (never changed afterwards: a retry must repeat it byte for byte) and what the page shows.
 * States: "waiting" (to send), "rejected" (the server said no: kept for the cashier).
 * Resolves to the stored item with its `seq`.
 */
export async function enqueueSale({ key, body, total_fen, handed_over }) {
  const item = {
    key, body, total_fen, handed_over,
    state: 'waiting', attempts: 0, error: null,
    created_at: new Date().toISOString(),
  };
  item.seq = await (await database()).add('outbox', item);
  return item;
}

/** Every item, oldest first. */
export async function outboxItems() {
  return (await database()).getAll('outbox');
}

export async function outboxItem(seq) {
  return (await database()).get('outbox', seq);
}

export async function updateItem(item) {
  await (await database()).put('outbox', item);
}

export async function removeItem(seq) {
  await (await database()).delete('outbox', seq);
}

/** Moves a sale the server confirmed from the outbox to `synced`, in one transaction. */
export async function markSynced(item, sale) {
  const db = await database();
  const transaction = db.transaction(['outbox', 'synced'], 'readwrite');
  transaction.objectStore('outbox').delete(item.seq);
  transaction.objectStore('synced').put({
    key: item.key, seq: item.seq, sale_id: sale?.id ?? null, number: sale?.number ?? null,
    total_fen: sale?.total_fen ?? item.total_fen, offline: Boolean(item.body.offline),
    synced_at: new Date().toISOString(),
  });
  await transaction.done;
}

export async function syncedSales() {
  return (await database()).getAll('synced');
}
