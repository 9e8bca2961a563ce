// The tracking page's script (linked at a hashed /static URL: the page's security policy admits no inline script).
const token = location.pathname.split("/").pop();
const api = "/track/" + encodeURIComponent(token);
const $ = (id) => document.getElementById(id);
const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const words = { on_time: "on time", at_risk: "may be a little late", late: "running late" };

function show(v) {
  const title = { new: "Visit requested", scheduled: "Technician assigned", dispatched: "Ready to go",
    en_route: "On the way", on_site: "Arrived", completed: "Done", incomplete: "We will come back",
    cancelled: "Cancelled" };
  $("status").textContent = title[v.status] || v.status;
  $("status").dataset.status = v.status;
  $("who").textContent = v.technician ? "Your technician: " + v.technician : "";
  $("for").textContent = v.coming_for;
  $("window").textContent = time(v.window_start_at) + "–" + time(v.window_end_at);
  $("eta-line").hidden = !v.eta_at;
  if (v.eta_at) {
    $("eta").textContent = time(v.eta_at);
    $("punctuality").textContent = words[v.punctuality] || "";
    $("punctuality").className = v.punctuality || "";
  }
  $("distance-line").hidden = v.distance_km === null;
  if (v.distance_km !== null) $("distance").textContent = v.distance_km;
  $("map-who").textContent = v.technician || "Technician";
  showMap(v.map);
  $("timeline").replaceChildren(...v.timeline.map((e) => {
    const li = document.createElement("li");
    li.textContent = time(e.at) + " " + e.what;
    return li;
  }));
  $("so-far").hidden = v.timeline.length === 0;
  $("cancel").hidden = !v.can_cancel;
  $("reschedule").hidden = !v.can_reschedule;
  $("rate").hidden = !v.can_rate || v.rating !== null;
  // Nothing is left to be told of once the visit is over.
  $("notify").hidden = ["completed", "incomplete", "cancelled"].includes(v.status);
}

// The map, while the technician is on the way. Leaflet is fetched only then; without it, or
// without tiles, the rest of the page is whole.
const mapBox = $("map");
let wanted = null; // the last view's map: the door and the technician's position
let leaflet = null; // a promise of Leaflet, once asked for
let map = null;
const markers = {};

function loadLeaflet() {
  leaflet = leaflet || new Promise((resolve, reject) => {
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = mapBox.dataset.leafletCss;
    const script = document.createElement("script");
    script.src = mapBox.dataset.leafletJs;
    script.onload = () => (window.L ? resolve(window.L) : reject(new Error("no Leaflet")));
    script.onerror = () => reject(new Error("Leaflet did not load"));
    document.head.append(style, script);
  });
  return leaflet;
}

function showMap(where) {
  wanted = where;
  if (!where) drawMap(null);
  else loadLeaflet().then(drawMap, () => { $("map-card").hidden = true; });
}

function place(L, kind, point, title) {
  if (!point) {
    if (markers[kind]) markers[kind].remove();
    delete markers[kind];
    return;
  }
  const at = [point.latitude, point.longitude];
  if (markers[kind]) markers[kind].setLatLng(at);
  else markers[kind] = L.marker(at, { title, keyboard: false,
    icon: L.divIcon({ className: "pin " + kind, iconSize: [18, 18] }) }).addTo(map);
}

function drawMap(L) {
  $("map-card").hidden = !wanted || !L;
  if (!wanted || !L) {
    if (map) map.remove();
    map = null;
    for (const kind in markers) delete markers[kind];
    return;
  }
  if (!map) {
    // On a phone a finger on the small map scrolls the page; two fingers still zoom it.
    map = L.map(mapBox, { zoomControl: false, scrollWheelZoom: false, dragging: !L.Browser.mobile });
    // Only this site's origin goes with a tile request, never the page's address (its token).
    L.tileLayer(mapBox.dataset.tiles, { attribution: mapBox.dataset.attribution, maxZoom: 19,
      referrerPolicy: "strict-origin" }).addTo(map);
  }
  place(L, "door", wanted.door, "Your address");
  place(L, "technician", wanted.technician, "Your technician");
  const points = Object.values(markers).map((m) => m.getLatLng());
  // Framed again only when someone would be off the map, so a customer's zoom is kept.
  if (!map.fittedTo || !points.every((p) => map.getBounds().contains(p))) {
    if (points.length > 1) map.fitBounds(L.latLngBounds(points), { padding: [30, 30], maxZoom: 16 });
    else map.setView(points[0], 15);
    map.fittedTo = true;
  }
}

async function refresh() {
  const response = await fetch(api);
  if (response.ok) show(await response.json());
}

async function post(path, body) {
  const response = await fetch(api + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  $("message").textContent = response.ok ? "Thank you." : (await response.json()).detail;
  refresh();
}

$("cancel").onclick = () => post("/cancel", { reason: "cancelled by the customer" });
$("reschedule").onclick = async () => {
  const offer = await (await fetch(api + "/slots")).json();
  const day = (iso) => new Date(iso).toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" });
  $("slots").replaceChildren(...(offer.slots || []).slice(0, 6).map((s) => {
    const b = document.createElement("button");
    b.textContent = day(s.window_start_at) + " " + time(s.window_start_at) + "–" + time(s.window_end_at);
    b.onclick = () => { $("slots").replaceChildren(); post("/reschedule", { window_start_at: s.window_start_at, window_end_at: s.window_end_at }); };
    return b;
  }));
  if (!offer.slots || !offer.slots.length) $("message").textContent = "No other time is free; please call us.";
};
document.querySelectorAll("#rate button").forEach((b) => { b.onclick = () => post("/rating", { stars: Number(b.dataset.stars) }); });

$("notify").onclick = async () => {
  try {
    const registration = await navigator.serviceWorker.register("/t/sw.js");
    const key = await (await fetch("/push/public-key")).json();
    const raw = atob(key.public_key.replace(/-/g, "+").replace(/_/g, "/"));
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: Uint8Array.from(raw, (c) => c.charCodeAt(0)) });
    await post("/subscriptions", subscription.toJSON());
  } catch (error) {
    $("message").textContent = "Notifications are not available here: " + error.message;
  }
};

refresh();
const events = new EventSource(api + "/events");
events.addEventListener("job_event", refresh);
setInterval(refresh, 30000);
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/t/sw.js").catch(() => {});
