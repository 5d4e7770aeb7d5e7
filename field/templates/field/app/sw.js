// The field app's service worker (docs/field-app.md): it keeps the app shell (page, scripts, styles,
// manifest, icons) so that the app opens without a network. Data never goes through a cache here:
// the app keeps what it downloaded and what it recorded in IndexedDB.
const PREFIX = "coopcore-field-";
// A digest of the app's files: a deploy that changes them installs a new cache and drops the old one.
const CACHE = PREFIX + "{{ version }}";
const PRECACHE = {{ precache|safe }};
const SHELL = {{ shell|safe }};
// A network that neither answers nor fails (a weak signal) falls back to the kept page after this long.
const SHELL_TIMEOUT_MS = 6000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // "reload": past the browser's HTTP cache, so a deploy's files are the ones kept.
      await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload", credentials: "same-origin" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && url.pathname === SHELL) {
    event.respondWith(shell(request));
  } else if (PRECACHE.includes(url.pathname)) {
    event.respondWith(kept(request, url.pathname));
  }
});

async function kept(request, path) {
  const cache = await caches.open(CACHE);
  return (await cache.match(path)) || fetch(request);
}

// The page from the network when there is one (a fresh page, and the log-in page when the session
// has ended); the kept page when there is none. Sent to the log-in page (logged out, or the
// session ended), the kept page is dropped: the next person on this phone does not get it offline.
async function shell(request) {
  const cache = await caches.open(CACHE);
  const fresh = fetch(request).then(async (answer) => {
    if (answer.type === "opaqueredirect" || answer.redirected) await cache.delete(SHELL);
    else if (answer.ok && answer.type === "basic") await cache.put(SHELL, answer.clone());
    return answer;
  });
  const waited = new Promise((resolve) => setTimeout(resolve, SHELL_TIMEOUT_MS, null));
  try {
    const answer = await Promise.race([fresh, waited]);
    if (answer) return answer;
  } catch (error) {
    const page = await cache.match(SHELL);
    if (page) return page;
    throw error;
  }
  return (await cache.match(SHELL)) || fresh;
}
