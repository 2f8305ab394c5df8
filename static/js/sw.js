// Service worker: the app shell (CSS, JS, icons) and, for the signed-in user, the pages and API
// answers of their inspections in the next 24 hours, so that they open in a basement without signal.
// Pages and API reads: network first, the cache when there is no network. Writes (POST, PATCH) are
// never cached: they go through the outbox (static/js/outbox.js, IndexedDB), which this worker never
// touches. Everything cached here is deleted at sign-out and expires after 24 hours.
"use strict";

var SHELL = "kt-shell-v1";
// One data cache per user ("kt-data-u<id>"): a tablet shared by two people never shows one the
// other's cached protocols; a new user's first page deletes the previous user's cache.
var DATA_PREFIX = "kt-data-u";
var MAX_AGE_MS = 24 * 60 * 60 * 1000;
var SHELL_FILES = [
  "/static/css/app.css",
  "/static/css/protocol.css",
  "/static/js/app.js",
  "/static/js/outbox.js",
  "/static/js/protocol.js",
  "/static/img/icon.svg",
  "/manifest.webmanifest",
];
// Only these GETs are kept: the start page, inspection pages, inspection and venue API answers.
var KEEP = [
  /^\/$/,
  /^\/tillsyn\/\d+$/,
  /^\/tillsyn\/\d+\/signera$/,
  /^\/api\/v1\/inspections\/\d+$/,
  /^\/api\/v1\/inspections$/,
  /^\/api\/v1\/venues\/\d+$/,
];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) {
      return Promise.all(SHELL_FILES.map(function (url) {
        return cache.add(url).catch(function () { return null; });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("kt-") === 0 && k !== SHELL && k.indexOf(DATA_PREFIX) !== 0; })
        .map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

var userReady = Promise.resolve();

function setUser(id) {
  if (!id) return userReady;
  var name = DATA_PREFIX + String(id);
  userReady = userReady.then(function () {
    return caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf(DATA_PREFIX) === 0 && k !== name; })
        .map(function (k) { return caches.delete(k); }));
    }).then(function () { return caches.open(name); });
  }).catch(function () { return null; });
  return userReady;
}

// The signed-in user's data cache, or null before any page has said who is signed in.
function openData() {
  return userReady.then(function () { return caches.keys(); }).then(function (keys) {
    var name = keys.filter(function (k) { return k.indexOf(DATA_PREFIX) === 0; })[0];
    return name ? caches.open(name) : null;
  });
}

function keepable(url) {
  if (url.origin !== self.location.origin) return false;
  return KEEP.some(function (re) { return re.test(url.pathname); });
}

function stamp(response) {
  // The time it was stored, so that old entries can be dropped.
  return response.clone().blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set("X-KT-Cached-At", String(Date.now()));
    return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
  });
}

function store(request, response) {
  // A redirect (to the login page) or an error is never kept.
  if (!response || response.status !== 200 || response.redirected || response.type !== "basic") return Promise.resolve();
  return stamp(response).then(function (copy) {
    return openData().then(function (cache) { return cache ? cache.put(request, copy) : null; });
  });
}

function fresh(response) {
  var at = Number(response.headers.get("X-KT-Cached-At") || 0);
  return !at || Date.now() - at < MAX_AGE_MS;
}

function offlinePage() {
  var html = '<!doctype html><html lang="sv"><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
    '<title>Offline – Krogtillsyn</title><link rel="stylesheet" href="/static/css/app.css"><main id="main">' +
    "<h1>Du är offline</h1><p>Sidan finns inte sparad på enheten. Tillsyner de närmaste 24 timmarna sparas " +
    "när du öppnar dem med nät. Osända ändringar finns kvar och skickas när nätet kommer tillbaka.</p>" +
    '<p><a href="/">Till startsidan</a></p></main></html>';
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function networkFirst(request, url) {
  return fetch(request).then(function (response) {
    if (keepable(url)) store(request, response.clone());
    return response;
  }, function () {
    return openData().then(function (cache) {
      return (cache ? cache.match(request, { ignoreVary: true }) : Promise.resolve(null)).then(function (hit) {
        if (hit && fresh(hit)) return hit;
        if (request.mode === "navigate") return offlinePage();
        return new Response(JSON.stringify({ error: { code: "offline", message: "Ingen nätanslutning." } }), {
          status: 503, headers: { "Content-Type": "application/json" },
        });
      });
    });
  });
}

function shellFirst(request) {
  return caches.open(SHELL).then(function (cache) {
    return cache.match(request, { ignoreSearch: true }).then(function (hit) {
      var update = fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
      if (hit) { update.catch(function () { return null; }); return hit; }
      return update;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return; // writes go to the network (and the outbox), never a cache
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/sw.js" || url.pathname === "/login" || url.pathname === "/logout") return;
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest") {
    event.respondWith(shellFirst(request));
    return;
  }
  if (request.mode === "navigate" || url.pathname.indexOf("/api/") === 0) {
    event.respondWith(networkFirst(request, url));
  }
});

function cacheUrls(urls) {
  return openData().then(function (cache) {
    if (!cache) return null;
    return Promise.all(urls.map(function (u) {
      var url = new URL(u, self.location.origin);
      if (!keepable(url)) return null;
      var request = new Request(url.href, { credentials: "same-origin" });
      return fetch(request).then(function (response) { return store(request, response); }).catch(function () { return null; });
    }));
  });
}

function ymd(d) {
  return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2);
}

// The user's inspections from today until tomorrow: their pages, API answers and venues.
function prefetch() {
  var now = new Date();
  var tomorrow = new Date(now.getTime() + 24 * 60 * 60 * 1000);
  var listUrl = "/api/v1/inspections?from=" + ymd(now) + "&to=" + ymd(tomorrow) + "&per_page=50";
  return fetch(listUrl, { credentials: "same-origin" }).then(function (r) {
    if (!r.ok || r.redirected) return null;
    return r.json().then(function (page) {
      var urls = ["/"];
      (page.items || []).forEach(function (item) {
        if (item.status === "cancelled") return;
        var start = Date.parse(item.planned_start);
        if (start && start - now.getTime() > MAX_AGE_MS) return;
        urls.push("/tillsyn/" + item.id, "/api/v1/inspections/" + item.id);
        if (item.venue && item.venue.id) urls.push("/api/v1/venues/" + item.venue.id);
      });
      return cacheUrls(urls);
    });
  }).catch(function () { return null; }).then(expire);
}

function expire() {
  return openData().then(function (cache) {
    if (!cache) return null;
    return cache.keys().then(function (requests) {
      return Promise.all(requests.map(function (req) {
        return cache.match(req).then(function (res) { if (res && !fresh(res)) return cache.delete(req); return null; });
      }));
    });
  });
}

self.addEventListener("message", function (event) {
  var msg = event.data || {};
  var port = event.ports && event.ports[0];
  var done = function () { if (port) port.postMessage({ ok: true }); };
  if (msg.user) setUser(msg.user);
  if (msg.type === "user") {
    event.waitUntil(userReady.then(done, done));
  } else if (msg.type === "cache" && Array.isArray(msg.urls)) {
    event.waitUntil(cacheUrls(msg.urls).then(done, done));
  } else if (msg.type === "prefetch") {
    event.waitUntil(prefetch().then(done, done));
  } else if (msg.type === "logout") {
    // Cached pages and API answers go; the outbox (IndexedDB) stays, so unsent changes survive.
    event.waitUntil(caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("kt-") === 0; }).map(function (k) { return caches.delete(k); }));
    }).then(done, done));
  }
});
