// The playground's worker: one engine for the page's visit, many tiny merges of the demo
// models (messages in worker_session.js, which does the work). Classic for the engine's
// importScripts, as ../merge.worker.js says.
'use strict';
const session = import('./worker_session.js');
session.catch((e) => setTimeout(() => { throw e; }));  // the page's onerror hears it
self.onmessage = ({ data }) => { session.then((s) => s.onMessage(data)); };
