// The merge worker: one merge, then the page ends it (messages in shared/protocol.js; the
// work is merge_session.js). Classic, not a module worker: the engine is a classic script
// that engine_loader.js loads with importScripts, which module workers lack; its code
// comes in as ES modules through import(), as in the query and playground workers.
'use strict';
const session = import('./merge_session.js');
session.catch((e) => setTimeout(() => { throw e; }));  // the page's onerror hears it
self.onmessage = ({ data }) => { session.then((s) => s.onMessage(data)); };
