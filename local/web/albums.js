// FaceFlow albums on the local page: create an album, pick many photos, upload them (one
// presigned PUT each, or S3 multipart part by part for large files) with per-file progress,
// resume an interrupted multipart upload after a reload (pick the same file again), and watch
// photos, duplicates and jobs. An ES module beside app.js: its `state` (with the typed client),
// `$`, `guard` and `say`; every API call goes through `state.client.http` (openapi-fetch), S3
// PUTs through XMLHttpRequest (upload progress).
import { ApiError } from "./client.js";
import { $, guard, say, state } from "./app.js";
import { showShares } from "./shares.js";

const albums = { current: null, polling: null };
const RESUME_KEY = "albumUploads"; // multipart uploads not completed yet, for resuming
const PARALLEL = 3;

// One API call through the typed client: `path` is the OpenAPI path, `params` its parameters.
async function api(method, path, params = {}, body = undefined) {
  const result = await state.client.http[method](path, { params: { path: params }, body });
  if (result.response.ok && result.error === undefined) return result.data;
  const error = result.error?.error;
  throw new ApiError(
    result.response.status,
    error?.code ?? String(result.response.status),
    error?.message ?? (result.response.statusText || "Failed"),
  );
}

function pendingUploads() {
  return JSON.parse(localStorage.getItem(RESUME_KEY) || "{}");
}

function rememberUpload(file, albumId, photoId) {
  const all = pendingUploads();
  all[fileKey(file)] = { albumId, photoId, name: file.name };
  localStorage.setItem(RESUME_KEY, JSON.stringify(all));
}

function forgetUpload(file) {
  const all = pendingUploads();
  delete all[fileKey(file)];
  localStorage.setItem(RESUME_KEY, JSON.stringify(all));
}

function fileKey(file) {
  return `${file.name}|${file.size}|${file.lastModified}`;
}

async function sha256Hex(file) {
  if (!crypto.subtle || file.size > 64 * 1024 * 1024) return undefined; // hashing is optional
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// PUT with upload progress (fetch has none): resolves with the ETag S3 answered.
function put(url, body, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded);
    xhr.onload = () =>
      xhr.status < 300 ? resolve(xhr.getResponseHeader("ETag")) : reject(new Error(`S3 ${xhr.status}`));
    xhr.onerror = () => reject(new Error("network error"));
    xhr.send(body);
  });
}

function progressRow(file) {
  const row = document.createElement("li");
  row.dataset.file = file.name;
  const bar = document.createElement("progress");
  bar.max = file.size;
  bar.value = 0;
  const label = document.createElement("span");
  label.textContent = ` ${file.name}: waiting`;
  row.append(bar, label);
  $("album-progress").append(row);
  return {
    set(done, text) {
      bar.value = done;
      label.textContent = ` ${file.name}: ${text}`;
    },
  };
}

async function uploadParts(file, upload, already, row) {
  let sent = already.reduce((n, p) => n + p.size, 0);
  const parts = already.map((p) => ({ partNumber: p.partNumber, etag: p.etag }));
  for (const part of upload.parts) {
    const start = (part.partNumber - 1) * upload.partSize;
    const chunk = file.slice(start, start + upload.partSize);
    const base = sent;
    const etag = await put(part.url, chunk, {}, (n) => row.set(base + n, "uploading (multipart)"));
    sent += chunk.size;
    parts.push({ partNumber: part.partNumber, etag });
  }
  return parts;
}

async function uploadOne(albumId, file) {
  const row = progressRow(file);
  const saved = pendingUploads()[fileKey(file)];
  let photoId;
  if (saved && saved.albumId === albumId) {
    const progress = await api("GET", "/albums/{albumId}/photos/{photoId}/upload", {
      albumId,
      photoId: saved.photoId,
    });
    photoId = saved.photoId;
    row.set(0, `resuming (${progress.received.length} parts already there)`);
    const parts = await uploadParts(file, progress.upload, progress.received, row);
    await api("POST", "/albums/{albumId}/photos/{photoId}/complete", { albumId, photoId }, { parts });
  } else {
    const ticket = await api("POST", "/albums/{albumId}/uploadUrl", { albumId }, {
      fileName: file.name,
      contentType: file.type || "application/octet-stream",
      size: file.size,
      sha256: await sha256Hex(file),
    });
    photoId = ticket.photoId;
    if (ticket.upload === null) {
      row.set(file.size, "already in the album (duplicate), not uploaded");
      return;
    }
    if (ticket.upload.method === "PUT") {
      await put(ticket.upload.url, file, ticket.upload.headers, (n) => row.set(n, "uploading"));
    } else {
      rememberUpload(file, albumId, photoId);
      const parts = await uploadParts(file, ticket.upload, [], row);
      await api("POST", "/albums/{albumId}/photos/{photoId}/complete", { albumId, photoId }, { parts });
    }
  }
  forgetUpload(file);
  row.set(file.size, "uploaded");
}

async function uploadAll(albumId, files) {
  const queue = [...files];
  const worker = async () => {
    while (queue.length) {
      const file = queue.shift();
      try {
        await uploadOne(albumId, file);
      } catch (err) {
        say(`${file.name}: ${err.message}`, true);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
}

async function loadAlbums() {
  const page = await api("GET", "/albums");
  const list = $("album-list");
  list.replaceChildren(
    ...page.items.map((a) => {
      const option = document.createElement("option");
      option.value = a.albumId;
      option.textContent = `${a.name} (${a.photoCount})`;
      return option;
    }),
  );
  if (albums.current) list.value = albums.current;
  albums.current = list.value || null;
  $("album-detail").hidden = !albums.current;
  if (albums.current) await refreshAlbum();
  await showShares(albums.current);
}

async function refreshAlbum() {
  const id = albums.current;
  const [status, photos] = await Promise.all([
    api("GET", "/albums/{albumId}/status", { albumId: id }),
    api("GET", "/albums/{albumId}/photos", { albumId: id }),
  ]);
  const p = status.photos;
  $("album-status").textContent =
    `${status.status}: ${p.total} photos, ${p.processed} processed, ${p.duplicates} duplicates, ` +
    `${p.failed} failed, ${p.pending} pending; jobs: ` +
    (status.jobs.map((j) => `${j.status} (${j.photoCount})`).join(", ") || "none");
  $("album-status").dataset.status = status.status;
  $("album-photos").replaceChildren(
    ...photos.items.map((photo) => {
      const fig = document.createElement("figure");
      fig.dataset.status = photo.status;
      if (photo.thumbnailUrl) {
        const img = document.createElement("img");
        img.src = photo.thumbnailUrl;
        img.alt = photo.fileName;
        fig.append(img);
      }
      const caption = document.createElement("figcaption");
      caption.textContent = `${photo.fileName}: ${photo.status}` +
        (photo.duplicateOf ? ` of ${photo.duplicateOf.slice(-6)}` : "") +
        (photo.error ? ` (${photo.error.message})` : "");
      fig.append(caption);
      return fig;
    }),
  );
  return status;
}

function watchAlbum() {
  clearInterval(albums.polling);
  albums.polling = setInterval(async () => {
    try {
      const status = await refreshAlbum();
      if (status.status === "IDLE" && !status.photos.pending) clearInterval(albums.polling);
    } catch (err) {
      clearInterval(albums.polling);
      say(err.message, true);
    }
  }, 1000);
}

window.addEventListener("signed-in", guard(async () => {
  $("albums-view").hidden = false;
  const waiting = Object.values(pendingUploads());
  $("album-resume").textContent = waiting.length
    ? `Unfinished uploads: ${waiting.map((u) => u.name).join(", ")}. Pick them again to resume.`
    : "";
  await loadAlbums();
}));
$("album-form").addEventListener("submit", guard(async () => {
  const album = await api("POST", "/albums", {}, { name: $("album-name").value });
  albums.current = album.albumId;
  $("album-name").value = "";
  await loadAlbums();
}));
$("album-list").addEventListener("change", guard(async () => {
  albums.current = $("album-list").value;
  await refreshAlbum();
  await showShares(albums.current);
}));
$("album-upload").addEventListener("click", guard(async () => {
  const files = [...$("album-files").files];
  if (!albums.current || !files.length) return;
  $("album-progress").replaceChildren();
  await uploadAll(albums.current, files);
  watchAlbum();
}));
$("album-delete").addEventListener("click", guard(async () => {
  if (!confirm("Delete this album and every photo in it?")) return;
  await api("DELETE", "/albums/{albumId}", { albumId: albums.current });
  albums.current = null;
  await loadAlbums();
}));
