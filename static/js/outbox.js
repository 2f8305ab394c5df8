// The outbox: every change a tablet makes to a protocol is first stored on the device (IndexedDB)
// and then sent to the JSON API in order, when there is a network: at page load, when the browser
// says it is online, and on a timer (Background Sync is not relied on; Safari lacks it).
//
// Operations: {seq, user_id, inspection_id, kind: "patch" | "observation" | "photo" | "retract",
// url, state: "pending" | "conflict" | "locked" | "refused", ...}. A patch carries `changes` (field ->
// value, checklist items as "checklist.<code>"), `base` (what the field was when the change was
// made) and `base_version` (sent as If-Match). Observations and photos carry a client_id (a UUID)
// so that a resend never duplicates. A 412 is merged three-way: a field nobody else touched is
// resent silently; a field both changed becomes a conflict that the page shows and the user
// resolves. A 409 (a frozen protocol) is kept and shown, never dropped.
(function () {
  "use strict";
  if (window.KTOutbox) return;

  var DB_NAME = "krogtillsyn-outbox";
  var STORE = "ops";
  var SEND_INTERVAL_MS = 15000;
  var dbPromise = null;
  var sending = null;
  var inflightSeq = null;
  var authNeeded = false;
  var csrfOverride = null;

  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("IndexedDB saknas")); return; }
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
    return dbPromise;
  }

  function run(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var store = tx.objectStore(STORE);
        var result;
        Promise.resolve(work(store, function (value) { result = value; })).catch(reject);
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function getAll(store) {
    return new Promise(function (resolve, reject) {
      var req = store.getAll();
      req.onsuccess = function () { resolve(req.result || []); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function currentUser() {
    return (document.body && document.body.dataset.userId) || null;
  }

  function csrfToken() {
    if (csrfOverride) return csrfOverride;
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function emit(type, detail) {
    var d = detail || {};
    d.type = type;
    window.dispatchEvent(new CustomEvent("kt-outbox", { detail: d }));
  }

  // ---- comparing values (for the three-way merge) -------------------------------------------

  var TIME_KEYS = { arrived_at: true, left_at: true };

  function norm(key, value) {
    if (value === undefined || value === "") return null;
    if (TIME_KEYS[key] && value) { var t = Date.parse(value); return isNaN(t) ? value : t; }
    if (key.indexOf("checklist.") === 0 && value) return (value.status || "") + "\u0000" + (value.note || "");
    return value;
  }

  function same(key, a, b) { return norm(key, a) === norm(key, b); }

  function serverValue(current, key) {
    var protocol = (current && current.protocol) || {};
    if (key.indexOf("checklist.") === 0) {
      var item = (protocol.checklist || {})[key.slice(10)];
      return item ? { status: item.status, note: item.note == null ? null : item.note } : null;
    }
    return protocol[key] === undefined ? null : protocol[key];
  }

  function patchBody(changes) {
    var protocol = {};
    Object.keys(changes).forEach(function (key) {
      if (key.indexOf("checklist.") === 0) {
        protocol.checklist = protocol.checklist || {};
        protocol.checklist[key.slice(10)] = changes[key];
      } else {
        protocol[key] = changes[key];
      }
    });
    return { protocol: protocol };
  }

  // ---- the store ------------------------------------------------------------------------------

  function list() {
    var user = currentUser();
    return run("readonly", function (store, done) {
      return getAll(store).then(function (ops) {
        done(ops.filter(function (op) { return String(op.user_id) === String(user); })
          .sort(function (a, b) { return a.seq - b.seq; }));
      });
    }).catch(function () { return []; });
  }

  function add(op) {
    op.user_id = currentUser();
    op.state = "pending";
    op.created_at = new Date().toISOString();
    return run("readwrite", function (store, done) {
      if (op.kind !== "patch") { store.add(op); done(op); return null; }
      return getAll(store).then(function (ops) {
        var last = null;
        ops.forEach(function (o) {
          if (o.kind === "patch" && o.inspection_id === op.inspection_id && String(o.user_id) === String(op.user_id)) last = o;
        });
        if (last && last.state === "pending" && last.seq !== inflightSeq) {
          // Typing is saved in small steps: one waiting change per protocol keeps the queue short.
          Object.keys(op.changes).forEach(function (key) {
            if (!(key in last.base)) last.base[key] = op.base[key];
            last.changes[key] = op.changes[key];
          });
          store.put(last);
          done(last);
        } else {
          store.add(op);
          done(op);
        }
      });
    }).then(function (stored) {
      emit("change");
      setTimeout(flush, 0);
      return stored;
    });
  }

  function put(op) {
    return run("readwrite", function (store) { store.put(op); });
  }

  function remove(seq) {
    return run("readwrite", function (store) { store.delete(seq); }).then(function () { emit("change"); });
  }

  function update(seq, fn) {
    return run("readwrite", function (store, done) {
      return new Promise(function (resolve) {
        var req = store.get(seq);
        req.onsuccess = function () {
          var op = req.result;
          if (op) {
            var keep = fn(op);
            if (keep === false) store.delete(seq); else store.put(op);
          }
          done(op);
          resolve();
        };
      });
    }).then(function (op) { emit("change"); setTimeout(flush, 0); return op; });
  }

  /** The user chose per field: send `changes` (based on `base` at `baseVersion`) again. */
  function resolve(seq, changes, base, baseVersion) {
    return update(seq, function (op) {
      op.changes = changes;
      op.base = base;
      op.base_version = baseVersion;
      op.state = "pending";
      op.rebases = 0;
      delete op.current;
      delete op.conflicts;
      delete op.error;
      return Object.keys(changes).length > 0;
    });
  }

  /** Try again what a frozen protocol refused (after it was reopened). */
  function retry(seq) {
    return update(seq, function (op) { op.state = "pending"; delete op.error; });
  }

  // ---- sending --------------------------------------------------------------------------------

  function readJson(response) {
    return response.json().catch(function () { return {}; });
  }

  function refreshCsrf() {
    return fetch(location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : ""; })
      .then(function (html) {
        var m = /<meta name="csrf-token" content="([^"]+)"/.exec(html);
        if (m) {
          csrfOverride = m[1];
          var meta = document.querySelector('meta[name="csrf-token"]');
          if (meta) meta.setAttribute("content", m[1]);
        }
        return !!m;
      })
      .catch(function () { return false; });
  }

  function request(op) {
    var headers = { "X-CSRFToken": csrfToken(), Accept: "application/json" };
    var body;
    var method = "POST";
    if (op.kind === "patch") {
      method = "PATCH";
      headers["If-Match"] = '"' + op.base_version + '"';
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(patchBody(op.changes));
    } else if (op.kind === "photo") {
      body = new FormData();
      body.append("client_id", op.client_id);
      body.append("file", op.blob, op.filename || "foto.jpg");
    } else {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(op.body);
    }
    return fetch(op.url, { method: method, headers: headers, body: body, credentials: "same-origin", cache: "no-store" });
  }

  // Answers "next" (go on with the queue) or "stop" (no network, signed out, server trouble).
  function sendOne(op, csrfRetried) {
    inflightSeq = op.seq;
    return request(op).then(function (response) {
      return readJson(response).then(function (json) { return handle(op, response.status, json, csrfRetried); });
    }, function () { return "stop"; }).then(function (result) {
      inflightSeq = null;
      return result;
    });
  }

  function handle(op, status, json, csrfRetried) {
    var error = (json && json.error) || {};
    if (status >= 200 && status < 300) {
      return run("readwrite", function (store, done) {
        store.delete(op.seq);
        if (op.kind !== "patch" || typeof json.version !== "number") { done(); return null; }
        // Later waiting changes were made on top of this one: they are based on its new version.
        return getAll(store).then(function (ops) {
          ops.forEach(function (o) {
            if (o.kind === "patch" && o.inspection_id === op.inspection_id && o.state === "pending" && o.base_version === op.base_version) {
              o.base_version = json.version;
              store.put(o);
            }
          });
          done();
        });
      }).then(function () {
        authNeeded = false;
        emit("sent", { op: op, data: json });
        return "next";
      });
    }
    if (status === 400 && error.code === "csrf" && !csrfRetried) {
      return refreshCsrf().then(function (ok) { return ok ? sendOne(op, true) : "stop"; });
    }
    if (status === 401 || (status === 400 && error.code === "csrf")) {
      authNeeded = true;
      emit("auth");
      return "stop";
    }
    if (status === 412 && op.kind === "patch" && error.current) {
      var current = error.current;
      var conflicts = Object.keys(op.changes).filter(function (key) {
        var now = serverValue(current, key);
        return !same(key, now, op.base[key]) && !same(key, now, op.changes[key]);
      });
      op.rebases = (op.rebases || 0) + 1;
      if (!conflicts.length && op.rebases <= 5) {
        // Somebody changed other fields: ours are still based on what is on the server.
        Object.keys(op.changes).forEach(function (key) { op.base[key] = serverValue(current, key); });
        op.base_version = current.version;
        return put(op).then(function () { emit("rebased", { op: op, data: current }); return "next"; });
      }
      op.state = "conflict";
      op.current = current;
      op.conflicts = conflicts.length ? conflicts : Object.keys(op.changes);
      return put(op).then(function () { emit("conflict", { op: op, data: current }); return "next"; });
    }
    if (status === 429 || status >= 500) return "stop";
    op.state = status === 409 && error.code === "locked" ? "locked" : "refused";
    op.error = { status: status, code: error.code || "", message: error.message || "", fields: error.fields || null };
    return put(op).then(function () { emit(op.state, { op: op }); return "next"; });
  }

  function pickNext(ops) {
    var blocked = {};
    for (var i = 0; i < ops.length; i++) {
      var op = ops[i];
      if (op.state !== "pending") {
        if (op.kind === "patch") blocked[op.inspection_id] = true;
        continue;
      }
      if (op.kind === "patch" && blocked[op.inspection_id]) continue;
      return op;
    }
    return null;
  }

  function drain() {
    return list().then(function (ops) {
      var op = pickNext(ops);
      if (!op) return null;
      return sendOne(op, false).then(function (result) { return result === "next" ? drain() : null; });
    });
  }

  /** Send what waits, in order. Safe to call often; one run at a time (across tabs where supported). */
  function flush() {
    if (sending) return sending;
    if (!currentUser() || navigator.onLine === false) { emit("change"); return Promise.resolve(); }
    var work = function () { return drain(); };
    var run1 = navigator.locks && navigator.locks.request
      ? navigator.locks.request("krogtillsyn-outbox", { ifAvailable: true }, function (lock) { return lock ? work() : null; })
      : work();
    sending = Promise.resolve(run1).catch(function () { return null; }).then(function () {
      sending = null;
      emit("change");
    });
    emit("sending");
    return sending;
  }

  function count() {
    return list().then(function (ops) {
      return ops.reduce(function (n, op) { return n + (op.kind === "patch" ? Object.keys(op.changes).length : 1); }, 0);
    });
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ---- sign-out: warn about unsent changes, clear the cached pages (never the outbox) ----------

  function clearCaches() {
    var jobs = [];
    if (window.caches) {
      jobs.push(caches.keys().then(function (keys) {
        return Promise.all(keys.filter(function (k) { return k.indexOf("kt-") === 0; }).map(function (k) { return caches.delete(k); }));
      }));
    }
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "logout" });
    }
    return Promise.all(jobs).catch(function () { return null; });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form || form.id !== "logout-form" || form.dataset.confirmed === "true") return;
    ev.preventDefault();
    count().then(function (n) {
      if (n > 0 && !window.confirm(
        "Du har " + n + " " + (n === 1 ? "ändring" : "ändringar") + " som inte har skickats. " +
        "De sparas kvar på den här enheten och skickas när du loggar in igen. Logga ut ändå?")) return;
      clearCaches().then(function () {
        form.dataset.confirmed = "true";
        form.submit();
      });
    });
  });

  window.KTOutbox = {
    add: add,
    list: list,
    count: count,
    flush: flush,
    remove: remove,
    resolve: resolve,
    retry: retry,
    uuid: uuid,
    csrfToken: csrfToken,
    serverValue: serverValue,
    same: same,
    clearCaches: clearCaches,
    authNeeded: function () { return authNeeded; },
  };

  if (currentUser()) {
    window.addEventListener("online", function () { flush(); });
    setInterval(flush, SEND_INTERVAL_MS);
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { flush(); });
    else flush();
    if (navigator.serviceWorker) {
      // Tell the service worker who is signed in (it keeps one cache per user) and fetch the next
      // 24 hours' inspections for offline use.
      navigator.serviceWorker.ready.then(function (reg) {
        if (reg.active) reg.active.postMessage({ type: "prefetch", user: currentUser() });
      }).catch(function () { return null; });
    }
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persisted().then(function (yes) { if (!yes) return navigator.storage.persist(); }).catch(function () { return null; });
    }
  }
})();
