/**
 * Files in and out of the page: reading what the learner picks or drops (a checkpoint folder
 * or a zip) into bytes, and offering bytes as a download. No parsing here: src/io/import.ts
 * validates what is read.
 */

/** What an import reads: a folder's files by relative path, or one zip's bytes. */
export type PickedFiles = { kind: 'folder'; files: Map<string, Uint8Array>; label: string } | { kind: 'zip'; bytes: Uint8Array; label: string };

/**
 * Reads picked files: one `.zip` is an archive; otherwise every file is part of a folder,
 * keyed by its path inside the folder (`webkitRelativePath` when a folder was picked).
 * @throws Error when nothing was picked or more than one zip was.
 */
export async function readPicked(list: ArrayLike<File>): Promise<PickedFiles> {
  const files = Array.from(list);
  if (files.length === 0) throw new Error('import: no file was chosen');
  const zips = files.filter((f) => /\.zip$/i.test(f.name));
  if (zips.length > 1) throw new Error(`import: choose one zip at a time (got ${zips.map((f) => f.name).join(', ')})`);
  if (zips.length === 1 && files.length === 1) return { kind: 'zip', bytes: new Uint8Array(await zips[0]!.arrayBuffer()), label: zips[0]!.name };
  const out = new Map<string, Uint8Array>();
  for (const f of files) out.set(f.webkitRelativePath || f.name, new Uint8Array(await f.arrayBuffer()));
  const top = files[0]!.webkitRelativePath.split('/')[0];
  return { kind: 'folder', files: out, label: top || `${files.length} files` };
}

/** Reads a drop: files, or folders walked recursively through the entries API. */
export async function readDropped(dt: DataTransfer): Promise<PickedFiles> {
  const entries = Array.from(dt.items ?? [])
    .map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() ?? null : null))
    .filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0 || entries.every((e) => e.isFile)) return readPicked(dt.files);
  const out = new Map<string, Uint8Array>();
  const walk = async (entry: FileSystemEntry, path: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.set(path, new Uint8Array(await file.arrayBuffer()));
      return;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries answers in chunks until it answers an empty list.
    for (;;) {
      const chunk = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (chunk.length === 0) break;
      for (const e of chunk) await walk(e, `${path}/${e.name}`);
    }
  };
  for (const e of entries) await walk(e, e.name);
  if (out.size === 0) throw new Error('import: the dropped folder is empty');
  return { kind: 'folder', files: out, label: entries[0]!.name };
}

/** Offers bytes as a file download. */
export function downloadBytes(bytes: Uint8Array, fileName: string, type = 'application/zip'): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later: some browsers start reading the blob only after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
