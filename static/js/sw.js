// Service worker: the offline issue fills this in (cache of today's pages and assets).
self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
