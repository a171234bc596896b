// The merged model, once written: a download link (the .safetensors itself when that and
// the model card are all the merge wrote; else the zip of the Hugging Face layout: shards,
// index, config.json, tokenizer files), "Save to folder…" where the browser can write to a
// folder the user picks, the list of files and the result's layer map. Everything points
// into the result zip in OPFS: nothing is copied in memory.
import * as P from './shared/protocol.js';
import { formatBytes } from './shared/format.js';
import * as layerMap from './layer_map.js';

const ZIP_NAME = 'merged-model.zip';
const MODEL_CARD = 'README.md';  // written with every merge (the engine's model card)

// 'file' when the merge wrote one .safetensors (and its model card), else 'folder'.
function layoutOf(entries) {
  const weights = entries.filter((e) => e.name.endsWith('.safetensors'));
  return weights.length === 1 && entries.every((e) => e === weights[0] || e.name === MODEL_CARD) ? 'file' : 'folder';
}

async function outputFile(name) {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(P.OPFS_DIR);
  return (await dir.getFileHandle(name)).getFile();
}

// el: {root, download, saveFolder, files, layerMap}; canSaveToFolder: bool; onMessage(text, kind);
// onChange(result or null): the result shown, or none (the evaluation panel offers it).
function createResultView({ el, canSaveToFolder, onMessage, onChange = () => {} }) {
  let url = null;
  let current = null;  // {output, entries}

  async function saveToFolder() {
    let dir;
    try {
      dir = await self.showDirectoryPicker({ mode: 'readwrite', id: 'wasmerge-output' });
    } catch (e) {
      if (e.name !== 'AbortError') onMessage(`Could not open that folder: ${e.message}`, 'error');
      return;
    }
    const zip = await outputFile(current.output);
    el.saveFolder.disabled = true;
    try {
      for (const [i, entry] of current.entries.entries()) {
        onMessage(`Writing ${entry.name} into “${dir.name}” (${i + 1} of ${current.entries.length})…`, 'info');
        const writable = await (await dir.getFileHandle(entry.name, { create: true })).createWritable();
        await writable.write(zip.slice(entry.offset, entry.offset + entry.size));
        await writable.close();
      }
      onMessage(`Saved ${current.entries.length} files into “${dir.name}”.`, 'ok');
    } catch (e) {
      onMessage(`Could not save into “${dir.name}”: ${e.message}`, 'error');
    } finally {
      el.saveFolder.disabled = false;
    }
  }
  el.saveFolder.addEventListener('click', () => saveToFolder());

  return {
    // result: {output, entries, plan (the plan event the merge ran after, or null), zipName
    // (the folder's download name; merged-model.zip when left out), config (what made it)}
    async show(result) {
      this.clear();
      current = result;
      const zip = await outputFile(result.output);
      const layout = layoutOf(result.entries);
      let blob, name;
      if (layout === 'file') {
        const e = result.entries.find((x) => x.name.endsWith('.safetensors'));
        blob = zip.slice(e.offset, e.offset + e.size, 'application/octet-stream');
        name = e.name;
      } else {
        blob = zip.slice(0, zip.size, 'application/zip');
        name = result.zipName || ZIP_NAME;
      }
      url = URL.createObjectURL(blob);
      el.download.href = url;
      el.download.download = name;
      el.download.textContent = `Download ${name} · ${formatBytes(blob.size)}`;
      el.saveFolder.hidden = !(canSaveToFolder && layout === 'folder');
      el.files.tBodies[0].replaceChildren(...result.entries.map((e) => {
        const tr = document.createElement('tr');
        tr.insertCell().textContent = e.name;
        tr.insertCell().textContent = formatBytes(e.size);
        return tr;
      }));
      layerMap.render(el.layerMap, result.plan ? result.plan.layers : null);
      el.root.hidden = false;
      onChange(result);
    },
    // Forgets the shown result and removes its file from OPFS.
    clear() {
      if (url) URL.revokeObjectURL(url);
      url = null;
      el.download.removeAttribute('href');
      el.root.hidden = true;
      if (current) {
        const old = current.output;
        navigator.storage.getDirectory().then((root) => root.getDirectoryHandle(P.OPFS_DIR))
          .then((dir) => dir.removeEntry(old)).catch(() => {});
        onChange(null);
      }
      current = null;
    },
  };
}

// At load: results of earlier visits are not offered again, so their files go. A file
// another tab is still writing is locked and stays.
async function removeStaleOutputs() {
  try {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(P.OPFS_DIR, { create: true });
    for await (const name of dir.keys()) await dir.removeEntry(name).catch(() => {});
  } catch { /* no OPFS: nothing to clean */ }
}

export { createResultView, removeStaleOutputs, outputFile };
