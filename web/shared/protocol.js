// The messages between the page and its workers. The merge worker (merge.worker.js,
// merge_session.js; page side merge_client.js) runs one merge, then the page ends it (so
// its GB-sized wasm heap goes with it).
//
//   page -> worker
//     {verb: 'merge', args: {
//        files:    [[path, File], ...]  every path a config may use for a picked file
//        job:      string               the engine's job JSON (shared/job.js, job.hpp)
//        memoryMb: number               the engine's budget; the heap is heap_size.js of it
//        threads:  number               the pool gets threads - 1 workers (never 0)
//        cancel:   SharedArrayBuffer    Int32Array(1); the page stores 1 to stop the merge
//        output:   string | null        file name in OPFS folder OPFS_DIR for the result zip;
//                                       null for a job that writes nothing (an eval job)
//     }}
//
//   worker -> page
//     {verb: 'started'}                           engine loaded; the merge is running
//     {verb: 'progress', args: {bytes_done, bytes_total, tensor, tensor_index, tensor_count}}
//                                                 at most every PROGRESS_MS, and the last
//     {verb: 'forward',  args: {layer, layers}}   an upcycling's hidden-state gates: the base's
//                                                 forward pass over the prompts is past layer
//                                                 `layer` of `layers` (before any writing)
//     {verb: 'warning',  args: {message}}
//     {verb: 'eval',     args: {event: 'eval_start' | 'eval_layer' | 'eval_result', ..., at}}
//                                                 an eval job's events as the engine gives them,
//                                                 at: the worker's performance.now() when it did
//     {verb: 'finished', args: {
//        status:  0 | 1 | 130                     done | failed | cancelled (job.hpp)
//        outcome: the engine's 'done' or 'error' event
//        entries: [{name, offset, size}] | null   on 0: each output file, as a byte range
//                                                 of the zip (entries are stored, not compressed)
//        output:  string                          the zip's name in OPFS_DIR; removed unless status is 0
//        heapBytes: number                        the engine's wasm heap at its largest (bounded by memoryMb)
//        io:      {reads, readBytes, readSeconds, writes, writeBytes, writeSeconds}  time in the host
//     }}
//     {verb: 'failed', args: {message}}           the worker itself failed (engine would not
//                                                 load, storage refused); nothing is left in OPFS
//
// The merging playground keeps a worker of its own for the page's visit
// (playground/playground.worker.js) and talks to it with
//     {verb: 'playground', args: {id, op, ...}}  both ways (playground/worker_session.js).
//
// The query worker (query.worker.js, query_session.js; page side engine_queries.js)
// answers, for the page's whole visit, the engine's questions that write nothing: the
// method catalogue (a describe job) and what a config would write (a plan job, headers only).
//   page -> worker  {verb: 'query', args: {id, job: string, files: [[path, File], ...]}}
//   worker -> page  {verb: 'answer', args: {id, status, events: [every event but progress]}}
//                   {verb: 'failed', args: {id, message}}   the engine would not load
//
// Cancel works while the worker is blocked in the engine: the engine polls the shared flag
// after every block. Should the worker not answer soon after, the page terminates it and
// removes the output itself (merge_client.js).

export const MERGE = 'merge';
export const STARTED = 'started';
export const PROGRESS = 'progress';
export const FORWARD = 'forward';
export const WARNING = 'warning';
export const EVAL = 'eval';
export const EVAL_EVENTS = ['eval_start', 'eval_layer', 'eval_result'];
export const FINISHED = 'finished';
export const FAILED = 'failed';
export const PLAYGROUND = 'playground';
export const QUERY = 'query';
export const ANSWER = 'answer';
export const OPFS_DIR = 'wasmerge';
export const PROGRESS_MS = 100;
export const STATUS = { DONE: 0, FAILED: 1, CANCELLED: 130 };
