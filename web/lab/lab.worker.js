// The layer lab's worker: one engine for the page's visit, many tiny merges of the lab's
// demo folder (messages in lab_worker_session.js). Classic for the engine's importScripts,
// as ../merge.worker.js says.
'use strict';
const session = import('./lab_worker_session.js');
session.catch((e) => setTimeout(() => { throw e; }));  // the page's onerror hears it
self.onmessage = ({ data }) => { session.then((s) => s.onMessage(data)); };
