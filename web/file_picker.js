// Turns what the user picks — files, a folder (webkitdirectory), or files and folders
// dropped on the page — into [{path, file}] with folder-relative paths.
function fromInput(input) {
  return [...input.files].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

// A dropped folder arrives as a FileSystemDirectoryEntry; read it whole, recursively.
async function fromEntry(entry) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    return [{ path: entry.fullPath.replace(/^\/+/, ''), file }];
  }
  const reader = entry.createReader();
  const children = [];
  for (;;) {  // readEntries answers in batches until an empty one
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) break;
    children.push(...batch);
  }
  return (await Promise.all(children.map(fromEntry))).flat();
}

async function fromDrop(dataTransfer) {
  const entries = [...dataTransfer.items].filter((i) => i.kind === 'file').map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry());
  if (entries.every(Boolean)) return (await Promise.all(entries.map(fromEntry))).flat();
  return [...dataTransfer.files].map((file) => ({ path: file.name, file }));
}

// onPick(entries) gets every pick; inputs: the <input type=file> elements; zone: the drop target.
function attach({ inputs, zone, onPick, onError }) {
  for (const input of inputs) {
    input.addEventListener('change', () => {
      const picked = fromInput(input);
      input.value = '';  // picking the same files again still fires 'change'
      if (picked.length) onPick(picked);
    });
  }
  let depth = 0;  // dragenter/leave fire for every child element
  zone.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; zone.classList.add('dragging'); });
  zone.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; zone.classList.remove('dragging'); } });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove('dragging');
    fromDrop(e.dataTransfer).then((picked) => picked.length && onPick(picked), onError);
  });
  // A drop that misses the zone must not make the browser open the file instead.
  addEventListener('dragover', (e) => e.preventDefault());
  addEventListener('drop', (e) => e.preventDefault());
}

export { attach };
