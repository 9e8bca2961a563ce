// The app's data on the phone, in IndexedDB (idb-keyval): the sign-in, the day and the van as last
// read, the reports not yet sent and the positions not yet sent. A plain store any script of the
// origin can open, the service worker included.
(function () {
  "use strict";
  const kv = self.idbKeyval;
  const db = kv.createStore("truckroll-app", "kv");
  self.TR = self.TR || {};
  self.TR.store = {
    get: (key) => kv.get(key, db),
    set: (key, value) => kv.set(key, value, db),
    del: (key) => kv.del(key, db),
    // Read-modify-write in one IndexedDB transaction: two tabs never lose each other's reports.
    update: (key, change) => kv.update(key, change, db),
    clear: () => kv.clear(db),
  };
})();
