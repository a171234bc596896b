// The layer lab's markup and its words. lab.js and the three views fill in the parts
// marked by id; the honesty notes say where this toy does not show what the papers show.
const HTML = `
<div class="pg-intro">
<h2>Layer-space lab</h2>
<p>A tiny Llama-shaped network (<span id="lab-shape"></span>) trained on <span id="lab-task"></span>. Each experiment below
is a real merge by the engine that merges your models — a <code>slices</code> merge or a mergekit-moe upcycling, in a
worker — whose output the page reads back and measures on 600 test points. The config of every merge is shown:
<code>scripts/wasmerge CONFIG OUT</code> run in <code>web/demo/</code> makes the same model.
<span id="lab-status" data-testid="lab-status">Loading the model and the engine…</span></p>
</div>

<section class="card" aria-labelledby="lab-remove-title">
  <h3 id="lab-remove-title">1. Remove layers</h3>
  <p>Take a whole block out (a slice list that skips it), or only its attention-like part or its MLP (their output
  projection scaled to 0, so the block adds nothing there). The rest of the network is unchanged.</p>
  <div class="lab-controls">
    <label class="field">Remove
      <select id="lab-remove-kind" data-testid="lab-remove-kind">
        <option value="none">nothing</option><option value="block" selected>the whole block</option>
        <option value="attention">its attention-like part</option><option value="mlp">its MLP</option>
      </select>
    </label>
    <label class="field">of block <select id="lab-remove-block" data-testid="lab-remove-block"></select></label>
  </div>
  <p class="lab-result">Test accuracy: <strong id="lab-removal-accuracy" data-testid="lab-removal-accuracy"></strong>
  (the whole model: <span id="lab-full-accuracy"></span>)</p>
  <details><summary>Config</summary><pre id="lab-removal-config" data-testid="lab-removal-config"></pre></details>
  <div id="lab-removal-chart" data-testid="removal-chart" class="lab-charts">
    <div><h4>Accuracy without one block, or one part of it</h4><div id="lab-chart-which"></div></div>
    <div><h4>Accuracy without k random blocks (mean of <span id="lab-draws"></span> draws, fixed seed)</h4><div id="lab-chart-count"></div></div>
  </div>
  <p class="pg-note" id="lab-removal-note"></p>
</section>

<section class="card" aria-labelledby="lab-dus-title">
  <h3 id="lab-dus-title">2. Depth up-scaling (SOLAR)</h3>
  <p>Two copies of the model stacked: the first without its last <em>m</em> layers, the second without its first <em>m</em>.
  Right after stacking the deeper model is usually worse; continued training repairs it. The original model is trained
  for the same steps on the same batches, for comparison.</p>
  <div class="lab-controls">
    <label class="field pg-slider">Layers each copy drops (m)
      <span class="pg-slider-row"><input type="range" id="lab-dus-drop" data-testid="lab-dus-drop" min="0" step="1" value="2"><output id="lab-dus-drop-value"></output></span>
    </label>
    <button type="button" id="lab-dus-train" data-testid="lab-dus-train">Train both</button>
    <button type="button" id="lab-dus-stop" data-testid="lab-dus-stop" disabled>Stop</button>
  </div>
  <p class="lab-result"><span id="lab-dus-layers"></span> layers; test accuracy right after stacking:
  <strong id="lab-dus-accuracy" data-testid="lab-dus-accuracy"></strong>. <span id="lab-dus-progress" data-testid="lab-dus-progress"></span></p>
  <details><summary>Config</summary><pre id="lab-dus-config" data-testid="lab-dus-config"></pre></details>
  <div id="lab-dus-curve" data-testid="dus-curve" class="lab-charts">
    <div><h4>Test accuracy during continued training</h4><div id="lab-dus-acc-chart"></div></div>
    <div><h4>Test loss during continued training</h4><div id="lab-dus-loss-chart"></div></div>
  </div>
  <p class="pg-note" id="lab-dus-note"></p>
</section>

<section class="card" id="lab-upcycle" data-testid="upcycle-view" aria-labelledby="lab-up-title">
  <h3 id="lab-up-title">3. Sparse upcycling</h3>
  <p>Every MLP copied into E experts with a router choosing k of them per point (a Mixtral model, from a mergekit-moe
  config). The experts start identical and the routing weights sum to one, so the upcycled model computes what the dense
  one does; they differ only after further training.</p>
  <div class="lab-controls">
    <label class="field">Experts (E) <select id="lab-up-experts" data-testid="lab-up-experts"></select></label>
    <label class="field">Experts per point (k) <select id="lab-up-k" data-testid="lab-up-k"></select></label>
    <label class="field">Router (gate_mode)
      <select id="lab-up-gate" data-testid="lab-up-gate"><option value="random">random</option><option value="uniform_random">uniform_random</option></select>
    </label>
    <button type="button" id="lab-up-train" data-testid="lab-up-train">Train both</button>
    <button type="button" id="lab-up-stop" data-testid="lab-up-stop" disabled>Stop</button>
  </div>
  <p class="lab-result">Test accuracy: <strong id="lab-up-accuracy" data-testid="lab-up-accuracy"></strong>; largest logit difference
  from the dense model over the test points: <strong id="lab-up-diff" data-testid="lab-up-diff"></strong>.
  <span id="lab-up-progress" data-testid="lab-up-progress"></span></p>
  <details><summary>Config</summary><pre id="lab-up-config" data-testid="lab-up-config"></pre></details>
  <div class="lab-charts">
    <div><h4>Test loss during continued training</h4><div id="lab-up-loss-chart"></div></div>
    <div><h4>Share of routing slots per expert, per layer</h4><div id="lab-up-shares" data-testid="lab-up-shares"></div></div>
  </div>
  <p class="pg-note" id="lab-up-note"></p>
</section>
<p class="pg-latency" id="lab-latency" data-testid="lab-latency"></p>
`;

// The honest limits, one per experiment (the view adds what its own numbers show).
const NOTES = {
  removal: 'The ViT studies find later blocks redundant and attention more important than the MLP. Here the first ' +
    'blocks matter most and the later ones can go, as there; but the "attention" of a one-token input is only a linear ' +
    'map (a softmax over one key is 1), so which part matters more says nothing about real attention.',
  dus: 'SOLAR up-scales a 32-layer model by dropping 8 layers of each copy and continues pretraining on billions of ' +
    'tokens; here it is 8 layers, a few hundred SGD steps on a task the original already solves. With m = 4 the stack ' +
    'is the original model again (layers 0–3 then 4–7), and beyond it the stack is shallower than the original. ' +
    'The deeper model has no headroom to beat the original on this toy.',
  upcycle: 'The sparse upcycling paper trains upcycled models for a large share of their original budget and finds them ' +
    'better than the dense model trained as long. A few hundred steps on a solved toy task cannot show that: what it ' +
    'shows is the exact start (the same outputs) and the experts and routing drifting apart. The prompt-based routers ' +
    '(hidden, cheap_embed) need a tokenizer and text, which this model of points has not.',
};

export { HTML, NOTES };
