// The gate app's service worker (scope /gates/): keeps the app shell so that the page opens without signal.
// Static files: cache first (their names change with their content). The app page and its manifest:
// network first, the last good copy when offline (the page puts itself in PAGES after its first load).
// Nothing else is touched (the API is never cached).
"use strict";
const SHELL = "firstline-gate-shell-{{ version }}";
const PAGES = "firstline-gate-pages";
const ASSETS = {{ assets|safe }};
const APP_PAGE = /^\/gates\/[^/]+\/app\/(manifest\.webmanifest)?$/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((n) => n.startsWith("firstline-gate-shell-") && n !== SHELL).map((n) => caches.delete(n)))
      )
      .then(() => self.clients.claim())
  );
});

async function keep(path, response) {
  if (response.ok && !response.redirected && response.type === "basic") {
    const cache = await caches.open(PAGES);
    await cache.put(path, response);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (APP_PAGE.test(url.pathname)) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          const copy = response.clone();
          event.waitUntil(keep(url.pathname, copy));
          return response;
        })
        .catch(async () => {
          const cached = await caches.match(url.pathname, { cacheName: PAGES, ignoreVary: true, ignoreSearch: true });
          return cached || Response.error();
        })
    );
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(
      caches.match(url.pathname, { cacheName: SHELL, ignoreVary: true }).then((cached) => cached || fetch(request))
    );
  }
});
