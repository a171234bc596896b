// The query worker: the engine's answers that need no merge, for the page's whole visit
// (messages in shared/protocol.js; the work is query_session.js). Classic for the
// engine's importScripts, as merge.worker.js says.
'use strict';
const session = import('./query_session.js');
session.catch((e) => setTimeout(() => { throw e; }));  // the page's onerror hears it
self.onmessage = ({ data }) => { session.then((s) => s.onMessage(data)); };
