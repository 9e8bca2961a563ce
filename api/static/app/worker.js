// The technician app's service worker (scope /app): keeps the shell so the app starts with no
// network, and shows job news pushed to the phone. The shell's files have hashed URLs, listed
// below when the server renders this file: a new release is a new worker with a new cache.
const SHELL = "{app:shell}";
// Named by the shell's hashes: another release, another cache.
const CACHE = "truckroll-app-" + SHELL.map((u) => (u.split("/")[2] || "").slice(0, 6)).join("");

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("truckroll-app-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/app" && request.mode === "navigate") {
    // The page from the network when there is one (a new release), else the kept copy.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put("/app", copy));
          }
          return response;
        })
        .catch(() => caches.match("/app")),
    );
  } else if (url.pathname.startsWith("/static/")) {
    // Hashed URLs never change content: the kept copy is the file.
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request)));
  }
  // The API is left to the page: it keeps the day in IndexedDB and queues what it cannot send.
});

self.addEventListener("push", (event) => {
  let message = { title: "Truckroll", body: "Your day has changed." };
  try {
    message = event.data.json();
  } catch (_) {
    if (event.data) message.body = event.data.text();
  }
  const job = message.job_id || null;
  event.waitUntil(
    self.registration.showNotification(message.title, {
      body: message.body,
      tag: job ? "job-" + job : message.kind || "day",
      data: { job_id: job },
      icon: SHELL.find((u) => u.endsWith("icon-192.png")),
    }),
  );
});

// The app on the job a notification is about: the open window if there is one, else a new one.
self.openOnJob = (job) => {
  const target = "/app" + (job ? "#job=" + job : "");
  return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    const open = windows.find((w) => new URL(w.url).pathname === "/app");
    if (open) return open.navigate(target).then((w) => (w || open).focus());
    return self.clients.openWindow(target);
  });
};

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.openOnJob(event.notification.data && event.notification.data.job_id));
});
