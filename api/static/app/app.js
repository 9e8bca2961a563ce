// The technician app's shell: sign-in, the day and a job. Every value shown is set as text, never
// as HTML: a customer's access notes are theirs to write.
(function () {
  "use strict";
  const TR = self.TR;
  const $ = (id) => document.getElementById(id);
  const VIEWS = ["sign-in", "today", "job", "queue"];

  class SignedOut extends Error {}
  class Offline extends Error {}
  TR.SignedOut = SignedOut;
  TR.Offline = Offline;

  // A request to the API with the stored token. A 401 ends the session on this phone (the token
  // expired, or the user signed out elsewhere); no network is Offline, for the queue to wait.
  // Without a token nothing but the sign-in is sent: a report or a ping sent unsigned would be
  // answered 401 and taken for refused, and the technician's work lost.
  TR.api = async function (method, path, body, headers) {
    const token = await TR.store.get("token");
    if (!token && path !== "/auth/login") throw new SignedOut();
    const sent = Object.assign({ Accept: "application/json" }, headers || {});
    if (token) sent.Authorization = "Bearer " + token;
    if (body !== undefined) sent["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      showNetwork(false);
      throw new Offline(String(error));
    }
    showNetwork(true);
    if (response.status === 401 && path !== "/auth/login") {
      await forget("Your session has ended: please sign in again.");
      throw new SignedOut();
    }
    return response;
  };

  // What the API said was wrong, in its words: the detail and each field's message.
  TR.why = async function (response) {
    try {
      const error = await response.json();
      const fields = (error.extra || []).map((e) => (e.key ? e.key + ": " : "") + e.message);
      return [error.detail].concat(fields.filter((f) => f !== error.detail)).filter(Boolean).join("; ");
    } catch (_) {
      return "the server answered " + response.status;
    }
  };

  TR.uuid = () => (self.crypto.randomUUID ? self.crypto.randomUUID() : fallbackUuid());
  function fallbackUuid() {
    const b = self.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function show(view) {
    for (const name of VIEWS) $(name).hidden = name !== view;
    window.scrollTo(0, 0);
  }

  function notice(text) {
    $("notice").textContent = text || "";
    $("notice").hidden = !text;
  }
  TR.notice = notice;

  async function forget(why) {
    // Reports not yet sent stay: they are sent once the same technician signs in again.
    await TR.store.del("token");
    await TR.store.del("day");
    // Signed out, the server no longer sends this phone the job news: subscribe again next time.
    await TR.store.del("push");
    TR.day = null;
    if (TR.positions) TR.positions.stop();
    showSignIn(why);
  }

  function showSignIn(why) {
    $("queue-button").hidden = true;
    $("sign-in-error").textContent = why || "";
    $("sign-in-error").hidden = !why;
    show("sign-in");
  }

  async function signIn(event) {
    event.preventDefault();
    const email = $("email").value.trim();
    const password = $("password").value;
    let response;
    try {
      response = await TR.api("POST", "/auth/login", { email, password });
    } catch (error) {
      return showSignIn("No network: signing in needs one.");
    }
    if (!response.ok) return showSignIn(response.status === 401 ? "Wrong email or password." : await TR.why(response));
    const login = await response.json();
    if (login.user.role !== "technician" || !login.user.technician_id) {
      return showSignIn("This app is for technicians: sign in with a technician's login.");
    }
    const before = await TR.store.get("user");
    if (before && before.id !== login.user.id) {
      // Another technician on this phone: nothing of the last one's carries over, but their
      // reports are theirs to send first (they are sent under their own sign-in).
      const waiting = ((await TR.store.get("queue")) || []).filter((e) => e.state === "pending");
      if (waiting.length) {
        return showSignIn(waiting.length + " reports of " + before.email + " are still waiting to be sent: sign in as " + before.email + " first.");
      }
      await TR.store.clear();
    }
    await TR.store.set("token", login.access_token);
    await TR.store.set("user", login.user);
    $("password").value = "";
    await start();
  }

  async function signOut() {
    try {
      await TR.api("POST", "/auth/logout");
    } catch (_) {
      // Offline: the token is forgotten here all the same, and it expires on its own.
    }
    await forget("");
  }

  // The day as the server has it, with what this phone has done and not yet sent laid over it.
  TR.refreshDay = async function () {
    const user = await TR.store.get("user");
    try {
      const day = await TR.api("GET", "/technicians/me/day");
      if (day.ok) await TR.store.set("day", await day.json());
      const van = await TR.api("GET", "/technicians/" + user.technician_id + "/stock");
      if (van.ok) await TR.store.set("van", await van.json());
    } catch (error) {
      if (error instanceof SignedOut) throw error;
      // Offline: the day as last read.
    }
    await TR.render();
  };

  TR.render = async function () {
    TR.day = await TR.store.get("day");
    TR.van = (await TR.store.get("van")) || [];
    const queue = (await TR.store.get("queue")) || [];
    if (TR.day) TR.overlay(TR.day, TR.van, queue);
    const pending = queue.filter((e) => e.state === "pending").length;
    const refused = queue.filter((e) => e.state === "refused").length;
    $("queue-count").textContent = String(pending + refused);
    $("queue-count").classList.toggle("zero", pending + refused === 0);
    $("queue-button").hidden = false;
    $("queue-button").classList.toggle("refused", refused > 0);
    renderToday(queue);
    route(queue);
  };

  // Reports waiting to be sent are shown as done: the technician worked on.
  TR.overlay = function (day, van, queue) {
    for (const entry of queue) {
      if (entry.state !== "pending") continue;
      const stop = day.stops.find((s) => s.job_id === entry.job_id);
      if (entry.kind === "status" && stop) stop.status = entry.body.status;
      if (entry.kind === "parts") {
        for (const used of entry.body.parts) {
          const level = van.find((l) => l.part_id === used.part_id);
          if (level) level.quantity -= used.quantity;
        }
      }
    }
  };

  const STATUS_WORDS = {
    scheduled: "Scheduled", dispatched: "Ready to go", en_route: "On the way", on_site: "On site",
    completed: "Done", incomplete: "Not finished", cancelled: "Cancelled", new: "New",
  };
  TR.statusWords = (s) => STATUS_WORDS[s] || s;
  // An arrival time means something only until the technician is there.
  const WAY_AHEAD = ["scheduled", "dispatched", "en_route"];

  function clock(iso) {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: TR.day.timezone }).format(new Date(iso));
  }
  TR.clock = clock;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }
  TR.el = el;

  function pendingFor(queue, jobId) {
    return queue.filter((e) => e.job_id === jobId && e.state !== "done");
  }

  function renderToday(queue) {
    const day = TR.day;
    const list = $("stops");
    list.replaceChildren();
    if (!day) return;
    $("today-title").textContent = "Today, " + new Intl.DateTimeFormat("en-GB", { weekday: "long", day: "numeric", month: "long" }).format(new Date(day.date + "T12:00:00"));
    $("shift").textContent = day.shift_starts_at ? "Shift " + clock(day.shift_starts_at) + "–" + clock(day.shift_ends_at) : "";
    for (const stop of day.stops) {
      const item = el("li");
      const open = el("button");
      open.type = "button";
      open.className = "stop";
      open.dataset.job = stop.job_id;
      open.append(
        el("span", stop.order + ". " + clock(stop.window_start_at) + "–" + clock(stop.window_end_at), "stop-when"),
        el("span", stop.address, "stop-where"),
        el("span", stop.problem, "stop-where"),
        el("span", TR.statusWords(stop.status), "badge"),
      );
      const waiting = pendingFor(queue, stop.job_id);
      if (waiting.some((e) => e.state === "refused")) open.append(" ", el("span", "refused", "badge refused"));
      else if (waiting.length) open.append(" ", el("span", "pending", "badge pending"));
      open.addEventListener("click", () => { location.hash = "#job=" + stop.job_id; });
      item.append(open);
      list.append(item);
    }
    $("no-stops").hidden = day.stops.length > 0;
  }

  function route(queue) {
    const hash = location.hash;
    if (hash.startsWith("#job=") && TR.day) {
      const stop = TR.day.stops.find((s) => s.job_id === hash.slice(5));
      if (stop) {
        renderJob(stop, queue);
        return show("job");
      }
    }
    if (hash === "#queue" && TR.renderQueue) {
      TR.renderQueue(queue);
      return show("queue");
    }
    show("today");
  }

  function renderJob(stop, queue) {
    $("job-title").textContent = stop.order + ". " + stop.problem;
    $("job-status").textContent = TR.statusWords(stop.status);
    $("job-window").textContent = "Arrive " + clock(stop.window_start_at) + "–" + clock(stop.window_end_at) + (stop.eta_at && WAY_AHEAD.includes(stop.status) ? " · ETA " + clock(stop.eta_at) : "");
    $("job-address").textContent = stop.address;
    const where = stop.latitude + "," + stop.longitude;
    $("navigate").href = "geo:" + where + "?q=" + where + "(" + encodeURIComponent(stop.address) + ")";
    $("maps").href = "https://www.google.com/maps/dir/?api=1&destination=" + encodeURIComponent(where);
    const facts = $("job-facts");
    facts.replaceChildren();
    const fact = (term, value) => { if (value) facts.append(el("dt", term), el("dd", value)); };
    fact("Customer", stop.customer_first_name);
    fact("Customer's choice", stop.customer_choice);
    fact("Access", stop.access_notes);
    $("asset").hidden = !stop.asset;
    if (stop.asset) {
      const a = stop.asset;
      $("asset-name").textContent = [a.make, a.model, "(" + a.kind.replace(/_/g, " ") + ")"].filter(Boolean).join(" ");
      $("asset-warranty").textContent = "Warranty: " + a.warranty;
      $("asset-history").replaceChildren(...a.history.map((h) => el("li", h)));
    }
    $("parts").replaceChildren(...stop.parts.map((p) => {
      const item = el("li", p.quantity + " × " + p.name + " (" + p.sku + ", " + Math.round(p.probability * 100) + "%) ");
      item.append(p.on_van ? el("span", "on van", "on-van") : el("span", "not on van", "not-on-van"));
      return item;
    }));
    if (!stop.parts.length) $("parts").append(el("li", "None predicted."));
    $("pickup").hidden = !stop.pickup_depot;
    $("pickup").textContent = stop.pickup_depot ? "Pick up at " + stop.pickup_depot + " first." : "";
    renderCall(stop);
    if (TR.renderWork) TR.renderWork(stop, queue);
  }

  // The customer's number is offered only for the job in hand (on the way or on site), and asked
  // for only then: the app is carried into strangers' driveways.
  async function renderCall(stop) {
    const call = $("call");
    call.hidden = true;
    if (stop.status !== "en_route" && stop.status !== "on_site") return;
    try {
      const response = await TR.api("GET", "/jobs/" + stop.job_id + "/contact");
      if (!response.ok) return;
      const contact = await response.json();
      if (!contact.phone || location.hash !== "#job=" + stop.job_id) return;
      call.href = "tel:" + contact.phone.replace(/[^+\d]/g, "");
      call.textContent = "Call " + (contact.first_name || "customer");
      call.hidden = false;
    } catch (_) {
      // Offline: no call button (a phone call needs a network anyway).
    }
  }

  // The browser's word for it, corrected by what the last request met.
  function showNetwork(online) {
    const on = typeof online === "boolean" ? online : navigator.onLine;
    $("net").textContent = on ? "Online" : "Offline";
    $("net").classList.toggle("offline", !on);
  }

  async function start() {
    notice("");
    if (!(await TR.store.get("token"))) return showSignIn("");
    await TR.render();
    if (TR.positions) TR.positions.start();
    if (TR.push) TR.push.start();
    if (TR.flush) await TR.flush();
    await TR.refreshDay();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("home").addEventListener("click", () => { location.hash = ""; });
    $("back").addEventListener("click", () => { location.hash = ""; });
    $("queue-button").addEventListener("click", () => { location.hash = "#queue"; });
    window.addEventListener("hashchange", () => TR.render());
    window.addEventListener("online", showNetwork);
    window.addEventListener("offline", showNetwork);
    showNetwork();
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/app/worker.js", { scope: "/app" }).catch((error) => notice("Offline use is not available: " + error));
    }
    start().catch((error) => { if (!(error instanceof SignedOut)) notice(String(error)); });
  });
})();
