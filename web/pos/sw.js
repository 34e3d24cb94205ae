// The counter page's service worker: keeps the page and its scripts so a reload while the server
// is unreachable still opens the till. Network first (so a new version is used as soon as the
// server answers), the cached copy when it does not. The API is never cached here: sales go
// through the page's outbox in IndexedDB.
const cacheName = 'yizhan-pos-v2';
const shell = [
  '/pos/',
  '/pos/pos.js',
  '/pos/common.js',
  '/pos/cart.js',
  '/pos/shift.js',
  '/pos/checkout.js',
  '/pos/refund.js',
  '/pos/held.js',
  '/pos/pos.css',
  '/assets/css/site.css',
  '/assets/js/api.js',
  '/assets/js/i18n.js',
  '/assets/js/catalog-view.js',
  '/assets/js/pos-cart.js',
  '/assets/js/pos-search.js',
  '/assets/js/pos-store.js',
  '/assets/js/pos-sync.js',
  '/assets/vendor/idb/index.js',
  '/assets/vendor/pinyin-pro/index.js',
];
const shellPaths = new Set([...shell, '/pos/index.html']);

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(cacheName).then((cache) => cache.addAll(shell)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== cacheName) await caches.delete(name);
    await self.clients.claim();
  })());
});

/** The network's answer within a few seconds (kept for next time), else the cached copy. */
async function networkFirst(request, key) {
  const cache = await caches.open(cacheName);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 4000)),
    ]);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (event.request.mode === 'navigate' && url.pathname.startsWith('/pos/')) {
    event.respondWith(networkFirst(event.request, '/pos/'));
  } else if (shellPaths.has(url.pathname)) {
    event.respondWith(networkFirst(event.request, url.pathname));
  }
});
