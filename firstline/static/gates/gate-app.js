// The gate app: checks passes offline and queues every scan and visit until there is signal.
//
// - store:   IndexedDB "firstline-gate": "kv" (the gate's last sync, the latest time seen) and
//            "queue" (scans and visits, keyed by their client id, pending until the server answered).
// - sync:    GET the gate's sync, check the revocation list's Ed25519 signature with WebCrypto, keep it.
// - check:   a token (camera, photo) exactly like gates.tokens.verify, or a typed short code against
//            the synced short codes of the valid passes; one reason per refusal.
// - queue:   every check is queued with crypto.randomUUID(); uploads in batches when online
//            (the online event, a timer), one upload at a time, so each record leaves once per answer.
// - ui:      the big verdict, direction, temperature, the camera and photo, the visitor and vehicle forms.
//
// The texts come from the page (rendered in the user's language); no build step, no framework.
(function () {
  "use strict";
  var root = document.getElementById("gate-app");
  if (!root) return;
  var T = JSON.parse(document.getElementById("gate-texts").textContent);
  var CONFIG = JSON.parse(document.getElementById("gate-config").textContent);
  var CLOCK_TOLERANCE_MS = 5 * 60 * 1000;
  var BATCH = 50;
  var RETRY_MS = 30 * 1000;
  var KINDS = { 1: "outing", 2: "worker", 3: "vehicle", 4: "visitor" };
  var B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  var CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  function say(key, values) {
    var text = T[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(String(values[name]));
    });
    return text;
  }
  function $(id) {
    return document.getElementById(id);
  }

  // --- bytes ---------------------------------------------------------------------------------

  function base32(text) {
    var out = new Uint8Array(Math.floor((text.length * 5) / 8));
    var bits = 0, value = 0, index = 0;
    for (var i = 0; i < text.length; i++) {
      var digit = B32.indexOf(text[i]);
      if (digit < 0) return null;
      value = (value << 5) | digit;
      bits += 5;
      if (bits >= 8) {
        out[index++] = (value >>> (bits - 8)) & 255;
        bits -= 8;
      }
    }
    return out;
  }
  function base64(text) {
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  // LEB128 varints of the differences of sorted values (gates.sync.varints); values up to 2^35 stay exact.
  function varints(bytes) {
    var values = [], value = 0, scale = 1, previous = 0;
    for (var i = 0; i < bytes.length; i++) {
      value += (bytes[i] & 127) * scale;
      scale *= 128;
      if (!(bytes[i] & 128)) {
        previous += value;
        values.push(previous);
        value = 0;
        scale = 1;
      }
    }
    return values;
  }
  function hex16(big) {
    var text = big.toString(16);
    return "0000000000000000".slice(text.length) + text;
  }
  function shortCode(value) {
    var text = "";
    for (var shift = 30; shift >= 0; shift -= 5) text += CROCKFORD[Math.floor(value / Math.pow(2, shift)) % 32];
    return text.slice(0, 4) + " " + text.slice(4); // as printed on the card (gates.cards.format_short_code)
  }
  function shortCodeValue(text) {
    var cleaned = text.replace(/[\s-]/g, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
    if (cleaned.length !== 7) return null;
    var value = 0;
    for (var i = 0; i < 7; i++) {
      var digit = CROCKFORD.indexOf(cleaned[i]);
      if (digit < 0) return null;
      value = value * 32 + digit;
    }
    return value;
  }

  // --- store (IndexedDB) ---------------------------------------------------------------------

  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var open = indexedDB.open("firstline-gate", 1);
        open.onupgradeneeded = function () {
          var d = open.result;
          d.createObjectStore("kv");
          var queue = d.createObjectStore("queue", { keyPath: "client_id" });
          queue.createIndex("pending", "pending");
        };
        open.onsuccess = function () {
          resolve(open.result);
        };
        open.onerror = function () {
          reject(open.error);
        };
      });
    }
    return dbPromise;
  }
  function tx(store, mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(store, mode);
        var result;
        Promise.resolve(work(t.objectStore(store))).then(function (value) {
          result = value;
        });
        t.oncomplete = function () {
          resolve(result);
        };
        t.onerror = t.onabort = function () {
          reject(t.error);
        };
      });
    });
  }
  function req(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }
  function kvGet(key) {
    return tx("kv", "readonly", function (s) {
      return req(s.get(key));
    });
  }
  function kvPut(key, value) {
    return tx("kv", "readwrite", function (s) {
      s.put(value, key);
    });
  }

  // --- the synced state ----------------------------------------------------------------------

  var state = null; // {data, syncedAt, keys: Map id→CryptoKey, revoked: Set hex, suspended: Set hex, ...}
  var lastSeen = 0;

  function revocationPayload(list, serials, suspended) {
    // As tokens.revocation_payload: compact JSON, sorted keys, serials as integers in ascending order.
    function numbers(items) {
      return "[" + items.slice().sort(function (a, b) { return a < b ? -1 : a > b ? 1 : 0; }).join(",") + "]";
    }
    return new TextEncoder().encode(
      '{"community":' + list.community + ',"issued_at":' + list.issued_at + ',"serials":' + numbers(serials) +
        ',"suspended":' + numbers(suspended) + ',"version":' + list.version + "}"
    );
  }

  function importKeys(data) {
    var keys = new Map();
    return Promise.all(
      data.keys.map(function (key) {
        return crypto.subtle
          .importKey("raw", base64(key.public_key), { name: "Ed25519" }, false, ["verify"])
          .then(function (imported) {
            keys.set(key.key_id, imported);
          });
      })
    ).then(function () {
      return keys;
    });
  }

  // Build the lookups of a sync (checked: a list whose signature fails is never used).
  function prepare(data, syncedAt) {
    return importKeys(data).then(function (keys) {
      var list = data.revocations;
      var revoked = list.serials.map(function (h) { return BigInt("0x" + h); });
      var suspended = list.suspended.map(function (h) { return BigInt("0x" + h); });
      var key = keys.get(list.key_id);
      if (!key) throw new Error("bad_list");
      return crypto.subtle
        .verify({ name: "Ed25519" }, key, base64(list.signature), revocationPayload(list, revoked, suspended))
        .then(function (ok) {
          if (!ok) throw new Error("bad_list");
          var codes = new Map();
          var groups = (data.passes && data.passes.groups) || [];
          groups.forEach(function (group) {
            varints(base64(group.codes)).forEach(function (value) {
              codes.set(value, group);
            });
          });
          var shift = BigInt(63 - ((data.passes && data.passes.bits) || 35));
          function prefixes(items) {
            return new Set(items.map(function (s) { return Number(s >> shift); }));
          }
          return {
            data: data,
            syncedAt: syncedAt,
            keys: keys,
            revoked: new Set(list.serials),
            suspended: new Set(list.suspended),
            revokedCodes: prefixes(revoked),
            suspendedCodes: prefixes(suspended),
            codes: codes,
            maxAge: (data.rules.list_max_age_hours || 12) * 3600,
            fever: parseFloat(data.rules.fever_threshold),
          };
        });
    });
  }

  function syncKey() {
    return "sync:" + CONFIG.gate;
  }

  function load() {
    return Promise.all([kvGet(syncKey()), kvGet("lastSeen")]).then(function (found) {
      lastSeen = found[1] || 0;
      if (!found[0]) return null;
      return prepare(found[0].data, found[0].syncedAt).then(function (prepared) {
        state = prepared;
        return state;
      });
    });
  }

  var syncing = false;
  function sync() {
    if (syncing) return Promise.resolve(state);
    syncing = true;
    notice(say("syncing"));
    return fetch(CONFIG.sync_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403 || response.redirected) throw new Error("login_again");
        if (!response.ok) throw new Error("sync_failed");
        return response.json();
      })
      .then(function (data) {
        var now = Date.now();
        return prepare(data, now).then(function (prepared) {
          return kvPut(syncKey(), { data: data, syncedAt: now }).then(function () {
            state = prepared;
            seen(Math.max(now, Math.round(data.server_time * 1000)));
            notice(say("synced", { count: prepared.codes.size }));
            return state;
          });
        });
      })
      .catch(function (error) {
        var key = error && T[error.message] ? error.message : "sync_failed";
        notice(say(key), true);
        return state;
      })
      .then(function (result) {
        syncing = false;
        render();
        return result;
      });
  }

  function seen(moment) {
    if (moment > lastSeen) {
      lastSeen = moment;
      kvPut("lastSeen", lastSeen);
    }
  }

  // --- checks (as gates.tokens.verify) -------------------------------------------------------

  function Refused(reason, detail) {
    this.reason = reason;
    this.detail = detail || null;
  }

  function parseToken(token) {
    var text = String(token).replace(/\s/g, "").toUpperCase();
    if (text.slice(0, 3) !== "FL1") throw new Refused("malformed");
    var raw = base32(text.slice(3));
    if (!raw || raw.length !== 98) throw new Refused("malformed");
    var payload = raw.subarray(0, 34), signature = raw.subarray(34);
    var view = new DataView(raw.buffer, raw.byteOffset, 34);
    var claims = {
      version: view.getUint8(0),
      keyId: view.getUint32(1),
      serial: view.getBigUint64(5),
      community: view.getUint32(13),
      gate: view.getUint32(17),
      validFrom: view.getUint32(21),
      validUntil: view.getUint32(25),
      kind: view.getUint8(29),
      rule: view.getUint16(30),
    };
    if (claims.version !== 1 || !KINDS[claims.kind]) throw new Refused("malformed");
    return { claims: claims, payload: payload, signature: signature };
  }

  function clockCheck(nowMs) {
    if (nowMs < lastSeen - CLOCK_TOLERANCE_MS) throw new Refused("clock_moved_back");
  }

  function staleCheck(moment) {
    var list = state.data.revocations;
    if (list.community !== state.data.gate.community || moment - list.issued_at > state.maxAge) {
      throw new Refused("stale_revocation_list");
    }
  }

  // The claims of a token that may pass now; a rejected promise with a Refused otherwise.
  function verifyToken(token, nowMs) {
    nowMs = nowMs === undefined ? Date.now() : nowMs;
    try {
      if (!state) throw new Refused("no_sync");
      clockCheck(nowMs);
      var parsed = parseToken(token);
    } catch (refused) {
      return Promise.reject(refused);
    }
    var claims = parsed.claims;
    var detail = { kind: claims.kind, code: shortCode(Number(claims.serial >> 28n)) };
    var key = state.keys.get(claims.keyId);
    if (!key) return Promise.reject(new Refused("unknown_key", detail));
    return crypto.subtle.verify({ name: "Ed25519" }, key, parsed.signature, parsed.payload).then(function (ok) {
      if (!ok) throw new Refused("bad_signature", detail);
      var gate = state.data.gate;
      if (claims.community !== gate.community || (claims.gate !== 0 && claims.gate !== gate.id)) {
        throw new Refused("wrong_gate", detail);
      }
      var moment = Math.floor(nowMs / 1000);
      if (moment < claims.validFrom) throw new Refused("not_yet_valid", detail);
      if (moment >= claims.validUntil) throw new Refused("expired", detail);
      staleCheck(moment);
      var serial = hex16(claims.serial);
      if (state.revoked.has(serial)) throw new Refused("revoked", detail);
      if (state.suspended.has(serial)) throw new Refused("suspended", detail);
      seen(nowMs);
      return detail;
    }).catch(function (error) {
      if (error instanceof Refused) {
        error.detail = error.detail || detail;
        throw error;
      }
      throw new Refused("bad_signature", detail);
    });
  }

  // A typed short code: a valid pass of this gate in the synced list (revoked and suspended by their codes).
  function verifyCode(text, nowMs) {
    nowMs = nowMs === undefined ? Date.now() : nowMs;
    if (!state) throw new Refused("no_sync");
    clockCheck(nowMs);
    var value = shortCodeValue(text);
    if (value === null) throw new Refused("bad_code");
    var detail = { kind: 0, code: shortCode(value) };
    var moment = Math.floor(nowMs / 1000);
    var group = state.codes.get(value);
    if (group) {
      detail.kind = group.kind;
      if (moment >= group.valid_until) throw new Refused("expired", detail);
    }
    staleCheck(moment);
    if (state.revokedCodes.has(value)) throw new Refused("revoked", detail);
    if (state.suspendedCodes.has(value)) throw new Refused("suspended", detail);
    if (!group) throw new Refused("unknown_code", detail);
    seen(nowMs);
    return detail;
  }

  // --- the queue -----------------------------------------------------------------------------

  function enqueue(type, body) {
    var record = { client_id: body.client_id, type: type, body: body, pending: 1, created: Date.now() };
    return tx("queue", "readwrite", function (s) {
      s.put(record);
    }).then(function () {
      renderQueue();
      upload();
      return record;
    });
  }

  function pending(type) {
    return tx("queue", "readonly", function (s) {
      return req(s.index("pending").getAll(1)).then(function (records) {
        return type ? records.filter(function (r) { return r.type === type; }) : records;
      });
    });
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : root.getAttribute("data-csrf");
  }

  var uploading = false;
  var askedAgain = false; // a record queued while a batch was on its way goes right after it
  function upload() {
    if (!navigator.onLine) return Promise.resolve();
    if (uploading) {
      askedAgain = true;
      return Promise.resolve();
    }
    uploading = true;
    askedAgain = false;
    return uploadType("scan", CONFIG.scans_url)
      .then(function (more) {
        return uploadType("visit", CONFIG.visits_url).then(function (moreVisits) {
          return more || moreVisits;
        });
      })
      .catch(function () {
        return false;
      })
      .then(function (more) {
        uploading = false;
        renderQueue();
        if (more || askedAgain) return upload();
      });
  }

  // One batch of ``type``; true when more is waiting. Marked sent only for the records the server answered.
  function uploadType(type, url) {
    return pending(type).then(function (records) {
      if (!records.length) return false;
      records.sort(function (a, b) { return a.created - b.created; });
      var batch = records.slice(0, BATCH);
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
        body: JSON.stringify(batch.map(function (r) { return r.body; })),
      }).then(function (response) {
        if (response.status === 401 || response.status === 403) {
          notice(say("login_again"), true);
          throw new Error("login_again");
        }
        if (response.status !== 200 && response.status !== 409) throw new Error("upload_failed");
        return response.json().then(function (answer) {
          return markSent(answer.results || []).then(function () {
            return records.length > batch.length;
          });
        });
      });
    });
  }

  var DONE = { stored: 1, duplicate: 1, conflict: 1, rejected: 1 };
  function markSent(results) {
    var conflicts = 0;
    return tx("queue", "readwrite", function (s) {
      results.forEach(function (result) {
        if (!DONE[result.status]) return;
        if (result.status === "conflict") conflicts++;
        req(s.get(result.client_id)).then(function (record) {
          if (!record) return;
          record.pending = 0;
          record.sent = Date.now();
          record.answer = { status: result.status, verdict: result.verdict || null, reason: result.reason || "" };
          if (record.type === "visit") record.body = { client_id: record.client_id, kind: record.body.kind };
          s.put(record);
        });
      });
    }).then(function () {
      if (conflicts) notice(say("conflict", { count: conflicts }), true);
    });
  }

  // Sent records are kept a day (what was sent and what the server said), without the visitors' details.
  function prune() {
    var before = Date.now() - 24 * 3600 * 1000;
    return tx("queue", "readwrite", function (s) {
      return req(s.index("pending").getAll(0)).then(function (records) {
        records.forEach(function (r) {
          if (r.sent && r.sent < before) s.delete(r.client_id);
        });
      });
    });
  }

  // --- the page ------------------------------------------------------------------------------

  function direction() {
    var checked = root.querySelector('input[name="direction"]:checked');
    return checked ? checked.value : "in";
  }

  function readTemperature(input) {
    var text = input.value.trim().replace(",", ".");
    if (!text) return { value: null };
    var value = parseFloat(text);
    if (!isFinite(value) || value < 34 || value > 43) return { error: say("temperature_range") };
    return { value: Math.round(value * 10) / 10 };
  }

  function isFever(value) {
    return value !== null && state && isFinite(state.fever) && value >= state.fever;
  }

  function nowIso() {
    var d = new Date();
    var offset = -d.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    var local = new Date(d.getTime() + offset * 60000).toISOString().slice(0, 23);
    return local + sign + pad(Math.floor(Math.abs(offset) / 60)) + ":" + pad(Math.abs(offset) % 60);
  }

  function showVerdict(passed, reason, detail, temperature) {
    var box = $("verdict");
    var fever = isFever(temperature);
    var ok = passed && !fever;
    box.hidden = false;
    box.className = "verdict " + (ok ? "pass" : "refuse");
    box.setAttribute("data-verdict", ok ? "pass" : "refuse");
    box.setAttribute("data-reason", fever && passed ? "fever" : reason || "");
    box.querySelector(".verdict-word").textContent = ok ? say("pass") : say("refuse");
    var reasons = [];
    if (!passed) reasons.push(say(reason));
    if (fever) reasons.push(say("fever"));
    box.querySelector(".verdict-reason").textContent = reasons.join(" · ");
    var parts = [];
    if (detail && detail.kind) parts.push(say("kind_" + detail.kind));
    if (detail && detail.code) parts.push(detail.code);
    parts.push(say("direction_" + direction()));
    if (temperature !== null && temperature !== undefined) parts.push(temperature.toFixed(1) + "\u00a0°C");
    box.querySelector(".verdict-detail").textContent = parts.join(" · ");
    box.scrollIntoView({ block: "nearest" });
  }

  var lastText = "", lastAt = 0;

  // Check what was scanned or typed, show the verdict, queue the scan. ``source``: "token" or "code".
  function check(source, text) {
    var input = $("temperature");
    var temperature = readTemperature(input);
    if (temperature.error) {
      notice(temperature.error, true);
      input.focus();
      return Promise.resolve(null);
    }
    var started = Date.now();
    var clock = performance.now();
    var outcome =
      source === "token"
        ? verifyToken(text, started)
        : new Promise(function (resolve) { resolve(verifyCode(text, started)); });
    return outcome
      .then(
        function (detail) { return { passed: true, reason: "", detail: detail }; },
        function (refused) {
          if (!(refused instanceof Refused)) refused = new Refused("malformed");
          return { passed: false, reason: refused.reason, detail: refused.detail };
        }
      )
      .then(function (result) {
        showVerdict(result.passed, result.reason, result.detail, temperature.value);
        result.shownInMs = performance.now() - clock;
        if (result.reason === "bad_code" || result.reason === "no_sync" || (source === "token" && result.reason === "malformed" && text.slice(0, 3).toUpperCase() !== "FL1")) {
          return result; // nothing that names a pass: not recorded
        }
        var body = {
          client_id: crypto.randomUUID(),
          token: source === "token" ? text.replace(/\s/g, "") : null,
          short_code: source === "code" ? result.detail.code.replace(/[\s-]/g, "") : null,
          gate: CONFIG.gate,
          direction: direction(),
          temperature: temperature.value,
          scanned_at: nowIso(),
        };
        input.value = "";
        renderFever();
        return enqueue("scan", body).then(function () {
          return result;
        });
      });
  }

  function notice(text, bad) {
    var box = $("notice");
    box.textContent = text;
    box.hidden = !text;
    box.className = "banner" + (bad ? " red" : "");
  }

  function renderQueue() {
    return pending().then(function (records) {
      var count = records.length;
      var el = $("queue-count");
      el.textContent = say("queue", { count: count });
      el.setAttribute("data-count", String(count));
      el.className = "pill" + (count ? " waiting" : "");
    });
  }

  function when(ms) {
    return new Date(ms).toLocaleString(document.documentElement.lang || undefined, {
      month: "numeric",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  function renderDuty() {
    var banner = $("duty-banner");
    if (!state || !state.data.me) {
      banner.hidden = true;
      return;
    }
    var me = state.data.me;
    var moment = Date.now() / 1000;
    var onShift = me.shifts.some(function (s) { return s.start <= moment && moment < s.end; });
    var granted = me.granted && (!me.granted_until || moment < me.granted_until);
    if (onShift || granted) {
      banner.hidden = !granted || onShift;
      banner.textContent = granted ? say("granted") : "";
      return;
    }
    var next = me.shifts.filter(function (s) { return s.start > moment; })[0];
    banner.textContent = say("not_on_shift") + (next ? " · " + say("next_shift", { when: when(next.start * 1000) }) : "");
    banner.hidden = false;
  }

  function render() {
    var online = navigator.onLine;
    var net = $("net-state");
    net.textContent = online ? say("online") : say("offline");
    net.className = "pill " + (online ? "online" : "offline");
    var syncState = $("sync-state");
    var stale = $("stale-banner");
    if (!state) {
      syncState.textContent = say("never_synced");
      syncState.setAttribute("data-synced", "0");
      stale.textContent = say("no_sync");
      stale.hidden = false;
    } else {
      syncState.textContent = say("synced_at", { when: when(state.syncedAt) });
      syncState.setAttribute("data-synced", String(state.syncedAt));
      var old = Date.now() / 1000 - state.data.revocations.issued_at > state.maxAge;
      stale.textContent = say("list_old", { hours: state.maxAge / 3600 });
      stale.hidden = !old;
    }
    renderDuty();
    renderFever();
  }

  function renderFever() {
    var temperature = readTemperature($("temperature"));
    var warning = $("fever-warning");
    if (temperature.error) {
      warning.textContent = $("temperature").value.trim().length >= 2 ? temperature.error : "";
    } else {
      warning.textContent = isFever(temperature.value) ? say("fever") : "";
    }
    warning.hidden = !warning.textContent;
  }

  // --- camera and photo (jsQR) ---------------------------------------------------------------

  var canvas = document.createElement("canvas");
  var context2d = canvas.getContext("2d", { willReadFrequently: true });

  function decode(source, width, height, maxSide) {
    var scale = Math.min(1, maxSide / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    context2d.drawImage(source, 0, 0, canvas.width, canvas.height);
    var image = context2d.getImageData(0, 0, canvas.width, canvas.height);
    var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
    return found ? found.data : null;
  }

  var stream = null;
  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      notice(say("camera_failed"), true);
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (media) {
        stream = media;
        var video = $("camera-video");
        video.srcObject = media;
        $("camera").hidden = false;
        return video.play().then(function () {
          scanFrames(video);
        });
      })
      .catch(function () {
        notice(say("camera_failed"), true);
      });
  }
  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    $("camera").hidden = true;
  }
  var lastFrame = 0;
  function scanFrames(video) {
    if (!stream) return;
    requestAnimationFrame(function (time) {
      if (time - lastFrame > 120 && video.readyState >= 2) {
        lastFrame = time;
        var text = decode(video, video.videoWidth, video.videoHeight, 640);
        // The same code in front of the camera is one scan, not one per frame.
        if (text && !(text === lastText && Date.now() - lastAt < 5000)) {
          lastText = text;
          lastAt = Date.now();
          check("token", text);
        }
      }
      scanFrames(video);
    });
  }

  function decodePhoto(file) {
    var url = URL.createObjectURL(file);
    var image = new Image();
    return new Promise(function (resolve, reject) {
      image.onload = function () {
        resolve(decode(image, image.naturalWidth, image.naturalHeight, 1200));
      };
      image.onerror = reject;
      image.src = url;
    }).finally(function () {
      URL.revokeObjectURL(url);
    });
  }

  // --- visits --------------------------------------------------------------------------------

  function recordVisit(form) {
    var fields = form.elements;
    var temperature = readTemperature(fields.temperature);
    if (temperature.error) {
      notice(temperature.error, true);
      return Promise.resolve(null);
    }
    function value(name) {
      return fields[name] ? fields[name].value.trim() : "";
    }
    var body = {
      client_id: crypto.randomUUID(),
      kind: form.getAttribute("data-kind"),
      gate: CONFIG.gate,
      direction: direction(),
      name: value("name"),
      phone: value("phone"),
      origin: value("origin"),
      host: value("host"),
      reason: value("reason"),
      plate: value("plate").toUpperCase(),
      cargo: value("cargo"),
      temperature: temperature.value,
      at: nowIso(),
    };
    return enqueue("visit", body).then(function () {
      form.reset();
      notice(isFever(temperature.value) ? say("fever") : say("recorded"), isFever(temperature.value));
      return body;
    });
  }

  // --- start ---------------------------------------------------------------------------------

  function wire() {
    $("sync-button").addEventListener("click", function () {
      sync().then(upload);
    });
    $("code-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = $("code-input");
      check("code", input.value).then(function (result) {
        if (result && result.reason !== "bad_code") input.value = "";
      });
    });
    $("temperature").addEventListener("input", renderFever);
    $("camera-button").addEventListener("click", startCamera);
    $("camera-stop").addEventListener("click", stopCamera);
    $("photo-input").addEventListener("change", function (event) {
      var file = event.target.files && event.target.files[0];
      event.target.value = "";
      if (!file) return;
      decodePhoto(file)
        .then(function (text) {
          if (!text) throw new Error("no_qr");
          return check("token", text);
        })
        .catch(function () {
          notice(say("no_qr"), true);
        });
    });
    Array.prototype.forEach.call(root.querySelectorAll(".visit-form"), function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        recordVisit(form);
      });
    });
    window.addEventListener("online", function () {
      render();
      sync().then(upload);
    });
    window.addEventListener("offline", render);
    setInterval(function () {
      render();
      upload();
    }, RETRY_MS);
  }

  // The service worker keeps the static files (at its install); the page keeps itself and its manifest in
  // the worker's page cache (the first load was not under the worker's control). Resolves when a reload
  // without signal would open the app.
  function keepForOffline() {
    if (!("serviceWorker" in navigator) || !window.caches) return Promise.resolve(false);
    var manifest = document.querySelector('link[rel="manifest"]');
    var paths = [location.pathname].concat(manifest ? [new URL(manifest.href).pathname] : []);
    return navigator.serviceWorker
      .register(CONFIG.sw_url, { scope: "/gates/" })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function () {
        if (!navigator.onLine) return caches.match(location.pathname, { cacheName: "firstline-gate-pages" });
        return caches.open("firstline-gate-pages").then(function (cache) {
          return Promise.all(
            paths.map(function (path) {
              return fetch(path, { credentials: "same-origin" }).then(function (response) {
                if (response.ok && !response.redirected) return cache.put(path, response);
                throw new Error("not kept"); // not ready for a reload offline: tried again at the next load
              });
            })
          );
        });
      })
      .then(function () {
        root.setAttribute("data-offline-ready", "1");
        return true;
      })
      .catch(function () {
        return false;
      });
  }

  var offlineReady = null;
  var ready = load()
    .catch(function () {
      return null;
    })
    .then(function () {
      wire();
      render();
      renderQueue();
      prune();
      // One request at a time on a weak signal: the sync and the queue first, then keeping the page.
      var first = navigator.onLine ? sync().then(upload) : Promise.resolve();
      offlineReady = first.then(keepForOffline, keepForOffline);
      return first;
    });

  // For the benchmark and tests: the checks without the page around them.
  window.gateApp = {
    ready: ready,
    offlineReady: function () {
      return ready.then(function () {
        return offlineReady;
      });
    },
    sync: sync,
    upload: upload,
    verifyToken: verifyToken,
    verifyCode: verifyCode,
    check: check,
    state: function () {
      return state;
    },
  };
})();
