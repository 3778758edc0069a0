// FaceFlow albums on the local page: create an album, pick many photos, upload them (one
// presigned PUT each, or S3 multipart part by part for large files) with per-file progress,
// resume an interrupted multipart upload after a reload (pick the same file again), and watch
// photos, duplicates and jobs; and the album's people (issue 12): chips, merge, split, label,
// undo, suggestions, refreshed when a pipeline job ends. An ES module beside app.js: its `state`
// (with the typed client), `$`, `guard` and `say`; every API call goes through
// `state.client.http` (openapi-fetch), S3 PUTs through XMLHttpRequest (upload progress).
// For other modules of the page (e.g. sharing): `currentAlbumId()`, `selectedPeople()` and the
// window event "people-selection" (detail: the selected people) whenever the selection changes.
import { ApiError } from "./client.js";
import { $, guard, liveOpen, mediaType, say, state } from "./app.js";
import { showShares } from "./shares.js";

const albums = { current: null, polling: null, jobs: "none" };
const RESUME_KEY = "albumUploads"; // multipart uploads not completed yet, for resuming
const PARALLEL = 3;

// One API call through the typed client: `path` is the OpenAPI path, `params` its path
// parameters, `query` its query parameters.
async function api(method, path, params = {}, body = undefined, query = undefined) {
  const result = await state.client.http[method](path, { params: { path: params, query }, body });
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
      contentType: mediaType(file),
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
  if (albums.current) await openAlbum();
  else showPeopleOf(null);
  await showShares(albums.current);
}

// A wrong duplicate undone: the photo is processed for faces like any other, and the pair is
// never marked again.
function notDuplicateButton(albumId, photo) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "not-duplicate";
  button.textContent = "Not a duplicate";
  button.setAttribute("aria-label", `${photo.fileName} is not a duplicate`);
  button.addEventListener("click", guard(async () => {
    button.disabled = true;
    await api("POST", "/albums/{albumId}/photos/{photoId}/not-duplicate", {
      albumId,
      photoId: photo.photoId,
    });
    await refreshAlbum();
    watchAlbum(); // its job runs now: follow it to PROCESSED
  }));
  return button;
}

async function refreshAlbum() {
  const id = albums.current;
  const [status, photos] = await Promise.all([
    api("GET", "/albums/{albumId}/status", { albumId: id }),
    api("GET", "/albums/{albumId}/photos", { albumId: id }),
  ]);
  albums.jobs = status.jobs.map((j) => `${j.status} (${j.photoCount})`).join(", ") || "none";
  showStatus(status);
  showPhotos(id, photos);
  // People change when a job ends (its Cluster step): reload them then, and on opening an album.
  const finished = status.jobs.filter((j) => FINISHED_JOB.has(j.status)).map((j) => j.jobId);
  const key = finished.sort().join(",");
  showPeopleOf(id);
  if (people.jobs !== key) {
    people.jobs = key;
    try {
      await loadPeople();
    } catch (err) {
      people.jobs = null; // not loaded: the next refresh tries again
      say(err.message, true); // shown; the album's status keeps being watched
    }
  }
  return status;
}

// The status line: from GET …/status, or from an album.status push (which has no jobs: the last
// ones read are shown until the next read).
function showStatus(status) {
  const p = status.photos;
  $("album-status").textContent =
    `${status.status}: ${p.total} photos, ${p.processed} processed, ${p.duplicates} duplicates, ` +
    `${p.failed} failed, ${p.pending} pending; jobs: ${albums.jobs}`;
  $("album-status").dataset.status = status.status;
}

function showPhotos(id, photos) {
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
      if (photo.status === "DUPLICATE") fig.append(notDuplicateButton(id, photo));
      return fig;
    }),
  );
}

async function openAlbum() {
  const status = await refreshAlbum();
  // A job still running after a reload, or people that did not load (a passing error).
  if (status.status !== "IDLE" || people.jobs === null) watchAlbum();
}

// Polls while the live socket is not open; with it open, pushes drive the page (below).
function watchAlbum() {
  clearInterval(albums.polling);
  albums.polling = setInterval(async () => {
    if (liveOpen()) return;
    try {
      const status = await refreshAlbum();
      const settled = status.status === "IDLE" && !status.photos.pending;
      if (settled && people.jobs !== null) clearInterval(albums.polling);
    } catch (err) {
      clearInterval(albums.polling);
      say(err.message, true);
    }
  }, 1000);
}

// A push about the album on screen: its status line at once, its photos read again; once it is
// IDLE, everything (jobs, people) read again. No timer runs meanwhile.
let pushed = Promise.resolve();
window.addEventListener("live-message", (event) => {
  const message = event.detail;
  if (message.type !== "album.status" || message.albumId !== albums.current) return;
  showStatus(message);
  const id = message.albumId;
  pushed = pushed.then(guard(async () => {
    if (albums.current !== id) return;
    if (message.status === "IDLE") {
      const status = await refreshAlbum();
      if (!status.photos.pending && people.jobs !== null) clearInterval(albums.polling);
    } else showPhotos(id, await api("GET", "/albums/{albumId}/photos", { albumId: id }));
  }));
});
// The socket is back: what happened while it was down is read once.
window.addEventListener("live-state", (event) => {
  if (event.detail === "open" && albums.current) guard(refreshAlbum)();
});

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
  await openAlbum();
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

// ---- People: the album's clusters of faces (issue 12) ------------------------------------------
// The API decides everything (who is whom, what an edit does, what undo restores); the page
// shows its answers and reloads after every change, so it never shows a state the API lacks.

const FINISHED_JOB = new Set(["SUCCEEDED", "FAILED"]);
const people = {
  albumId: null, // the album the chips belong to
  jobs: null, // its finished jobs when people were last loaded: one more ending reloads them
  clusters: [], // as the API lists them: largest first
  selected: new Set(), // clusterIds ticked (merge, share)
  open: null, // the clusterId shown in the person panel
  faces: new Set(), // faceIds ticked in the open person (split)
  loads: 0, // the latest load: an older answer arriving later draws nothing
  busy: false, // an edit is on its way: no second one meanwhile
};

/** The album the page shows (null: none). */
export function currentAlbumId() {
  return albums.current;
}

/** The people ticked on the chips, largest first: [{clusterId, label, size}]. */
export function selectedPeople() {
  return people.clusters
    .filter((c) => people.selected.has(c.clusterId))
    .map(({ clusterId, label, size }) => ({ clusterId, label, size }));
}

const nameOf = (cluster) => cluster.label || "Unnamed";
const facesText = (n) => `${n} face${n === 1 ? "" : "s"}`;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("aria-") || k === "role") node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children);
  return node;
}

// Every page of a listing.
async function listAll(path, params) {
  const items = [];
  let nextToken;
  do {
    const page = await api("GET", path, params, undefined, nextToken ? { nextToken } : undefined);
    items.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}

function showPeopleOf(albumId) {
  if (people.albumId === albumId) return;
  Object.assign(people, { albumId, jobs: null, clusters: [], open: null });
  people.selected.clear();
  people.faces.clear();
  $("people-chips").replaceChildren();
  $("person").hidden = true;
  $("people-undo").disabled = true;
  selectionChanged();
}

async function loadPeople() {
  const albumId = albums.current;
  showPeopleOf(albumId);
  const load = ++people.loads;
  const [clusters, edits] = await Promise.all([
    listAll("/albums/{albumId}/clusters", { albumId }),
    api("GET", "/albums/{albumId}/edits", { albumId }),
  ]);
  if (load !== people.loads || albumId !== albums.current) return;
  people.clusters = clusters;
  const ids = new Set(clusters.map((c) => c.clusterId));
  for (const id of people.selected) if (!ids.has(id)) people.selected.delete(id);
  if (!ids.has(people.open)) people.open = null;
  $("people-undo").disabled = !edits.items.length;
  $("people-undo").title = edits.items.length
    ? `Undo the last ${edits.items[0].type.toLowerCase()}`
    : "Nothing to undo";
  renderChips();
  selectionChanged();
  await renderPerson();
}

function renderChips() {
  const list = $("people-chips");
  list.setAttribute("aria-busy", String(people.busy));
  if (!people.clusters.length) {
    list.replaceChildren(el("li", { className: "hint", textContent: "No people found yet." }));
    return;
  }
  list.replaceChildren(...people.clusters.map(chip));
}

function chip(cluster) {
  const id = cluster.clusterId;
  const item = el("li", {
    className: "chip",
    dataset: { clusterId: id, size: cluster.size, label: cluster.label ?? "" },
  });
  item.classList.toggle("selected", people.selected.has(id));
  item.classList.toggle("open", people.open === id);
  const box = el("input", {
    type: "checkbox",
    className: "chip-select",
    checked: people.selected.has(id),
    "aria-label": `Select ${nameOf(cluster)} (${facesText(cluster.size)})`,
  });
  box.addEventListener("change", () => {
    if (box.checked) people.selected.add(id);
    else people.selected.delete(id);
    item.classList.toggle("selected", box.checked);
    selectionChanged();
  });
  const crop = cluster.faces[0]?.cropUrl;
  const open = el(
    "button",
    {
      type: "button",
      className: "chip-open",
      "aria-expanded": String(people.open === id),
      "aria-controls": "person",
    },
    ...(crop ? [el("img", { src: crop, alt: "" })] : []),
    el("span", { className: "chip-name", textContent: nameOf(cluster) }),
    el(
      "span",
      { className: "chip-count" },
      String(cluster.size),
      el("span", { className: "sr-only", textContent: cluster.size === 1 ? " face" : " faces" }),
    ),
  );
  open.addEventListener("click", guard(() => openPerson(id)));
  item.append(box, open);
  return item;
}

function selectionChanged() {
  const n = people.selected.size;
  $("people-merge").disabled = n < 2 || people.busy;
  $("people-note").textContent = n
    ? `${n} selected${n < 2 ? ": select another person to merge with" : ""}`
    : "";
  window.dispatchEvent(new CustomEvent("people-selection", { detail: selectedPeople() }));
}

async function openPerson(clusterId) {
  people.open = clusterId;
  people.faces.clear();
  stopRename(false);
  renderChips();
  const drawn = renderPerson(); // shows the panel at once, its photos once they are listed
  $("person-name").focus();
  await drawn;
}

function closePerson() {
  const id = people.open;
  people.open = null;
  people.faces.clear();
  stopRename(false);
  $("person").hidden = true;
  renderChips();
  document.querySelector(`.chip[data-cluster-id="${CSS.escape(id ?? "")}"] .chip-open`)?.focus();
}

async function renderPerson() {
  const panel = $("person");
  const cluster = people.clusters.find((c) => c.clusterId === people.open);
  if (!cluster) {
    panel.hidden = true;
    return;
  }
  const id = cluster.clusterId;
  panel.hidden = false;
  panel.dataset.clusterId = id;
  $("person-name").textContent = `${nameOf(cluster)} · ${facesText(cluster.size)}`;
  const faceIds = new Set(cluster.faces.map((f) => f.faceId));
  for (const f of people.faces) if (!faceIds.has(f)) people.faces.delete(f);
  $("person-faces").replaceChildren(...cluster.faces.map((face, i) => faceItem(cluster, face, i)));
  splitChanged(cluster);

  const load = people.loads;
  const [photos, suggestions] = await Promise.all([
    listAll("/albums/{albumId}/photos", { albumId: people.albumId }),
    api("GET", "/albums/{albumId}/clusters/{clusterId}/suggestions", {
      albumId: people.albumId,
      clusterId: id,
    }),
  ]);
  if (load !== people.loads || people.open !== id) return; // a newer state is drawn or coming
  const byPhoto = new Map();
  for (const f of cluster.faces) byPhoto.set(f.photoId, [...(byPhoto.get(f.photoId) || []), f]);
  $("person-photos").replaceChildren(
    ...photos
      .filter((p) => byPhoto.has(p.photoId))
      .map((p) => personPhoto(p, byPhoto.get(p.photoId))),
  );
  $("person-suggestions").replaceChildren(
    ...(suggestions.items.length
      ? suggestions.items.map((s) => suggestion(cluster, s))
      : [el("li", { className: "hint", textContent: "No suggestions." })]),
  );
}

function faceItem(cluster, face, index) {
  const box = el("input", {
    type: "checkbox",
    className: "face-select",
    value: face.faceId,
    checked: people.faces.has(face.faceId),
  });
  box.addEventListener("change", () => {
    if (box.checked) people.faces.add(face.faceId);
    else people.faces.delete(face.faceId);
    splitChanged(cluster);
  });
  const alt = `Face ${index + 1} of ${nameOf(cluster)}`;
  return el(
    "li",
    { dataset: { faceId: face.faceId, photoId: face.photoId } },
    el(
      "label",
      {},
      box,
      face.cropUrl ? el("img", { src: face.cropUrl, alt }) : el("span", { textContent: alt }),
      ...(typeof face.score === "number"
        ? [el("span", { textContent: `score ${face.score.toFixed(2)}` })]
        : []),
    ),
  );
}

function splitChanged(cluster) {
  const n = people.faces.size;
  // Splitting every face off would leave the same person under a new id: nothing to do.
  $("person-split").disabled = !n || n >= cluster.faces.length || people.busy;
  $("person-split").textContent = n ? `Split ${facesText(n)} off` : "Split selected faces";
}

function personPhoto(photo, faces) {
  const fig = el("figure", { className: "person-photo", dataset: { photoId: photo.photoId } });
  if (photo.thumbnailUrl) fig.append(el("img", { src: photo.thumbnailUrl, alt: photo.fileName }));
  // Boxes are in the photo's pixels: as fractions they fit the thumbnail at any size.
  if (photo.thumbnailUrl && photo.width && photo.height) {
    for (const face of faces) {
      const [x, y, w, h] = face.box;
      const mark = el("div", { className: "face-box", "aria-hidden": "true" });
      Object.assign(mark.style, {
        left: `${(100 * x) / photo.width}%`,
        top: `${(100 * y) / photo.height}%`,
        width: `${(100 * w) / photo.width}%`,
        height: `${(100 * h) / photo.height}%`,
      });
      fig.append(mark);
    }
  }
  fig.append(el("figcaption", { textContent: photo.fileName }));
  return fig;
}

function suggestion(cluster, other) {
  const pct = `${Math.round(other.similarity * 100)}%`;
  const merge = el("button", {
    type: "button",
    className: "suggestion-merge",
    textContent: "Same person: merge",
    "aria-label":
      `Merge ${nameOf(other)} (${facesText(other.size)}, ${pct} similar) ` +
      `into ${nameOf(cluster)}`,
  });
  merge.addEventListener("click", guard(() => mergePeople([cluster.clusterId, other.clusterId])));
  return el(
    "li",
    { dataset: { clusterId: other.clusterId, similarity: other.similarity } },
    ...(other.cropUrl ? [el("img", { src: other.cropUrl, alt: "" })] : []),
    el("span", { textContent: `${nameOf(other)} · ${facesText(other.size)} · ${pct} similar` }),
    merge,
  );
}

// One edit at a time; the people are reloaded after it whatever it answered (a refusal may
// mean the page was behind, e.g. another tab merged that person).
async function edit(change) {
  if (people.busy) return undefined;
  people.busy = true;
  $("people").setAttribute("aria-busy", "true");
  for (const b of ["people-merge", "people-undo", "person-split"]) $(b).disabled = true;
  let result;
  try {
    result = await change(people.albumId);
  } catch (err) {
    idle();
    await loadPeople().catch((again) => {
      err.message += `; reloading the people failed too: ${again.message}`;
    });
    throw err;
  }
  idle();
  await loadPeople();
  return result;
}

function idle() {
  people.busy = false;
  $("people").setAttribute("aria-busy", "false");
}

async function mergePeople(clusterIds) {
  const follow = !people.open || clusterIds.includes(people.open);
  const merged = await edit((albumId) =>
    api("POST", "/albums/{albumId}/clusters/merge", { albumId }, { clusterIds }),
  );
  if (!merged) return;
  for (const id of [...clusterIds, merged.clusterId]) people.selected.delete(id);
  selectionChanged();
  if (follow) await openPerson(merged.clusterId); // show the merged person
  else renderChips();
  $("people-note").textContent = `Merged ${clusterIds.length} people.`;
}

async function splitFaces() {
  const faceIds = [...people.faces];
  const clusterId = people.open;
  const split = await edit((albumId) =>
    api(
      "POST",
      "/albums/{albumId}/clusters/{clusterId}/split",
      { albumId, clusterId },
      { faceIds },
    ),
  );
  if (!split) return; // the faces split off left this person: the reload dropped their ticks
  $("people-note").textContent = `Split ${facesText(faceIds.length)} off into a new person.`;
}

async function labelPerson() {
  const clusterId = people.open;
  const name = $("person-label").value.trim();
  const named = await edit((albumId) =>
    api("POST", "/albums/{albumId}/clusters/{clusterId}/label", { albumId, clusterId }, { name }),
  );
  if (!named) return;
  stopRename(true);
  $("people-note").textContent = `Named ${nameOf(named)}.`;
}

async function undoLast() {
  try {
    const undone = await edit((albumId) =>
      api("POST", "/albums/{albumId}/edits/undo", { albumId }),
    );
    if (undone) $("people-note").textContent = `Undid the last ${undone.type.toLowerCase()}.`;
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) $("people-undo").disabled = true;
    throw err; // the API's own words, shown by guard
  }
}

const RENAME_SHOWN = ["person-label-field", "person-label-save", "person-rename-cancel"];

function startRename() {
  const cluster = people.clusters.find((c) => c.clusterId === people.open);
  $("person-label").value = cluster?.label ?? "";
  for (const id of RENAME_SHOWN) $(id).hidden = false;
  $("person-name").hidden = $("person-rename-start").hidden = true;
  $("person-label").focus();
  $("person-label").select();
}

function stopRename(refocus) {
  for (const id of RENAME_SHOWN) $(id).hidden = true;
  $("person-name").hidden = $("person-rename-start").hidden = false;
  if (refocus) $("person-rename-start").focus();
}

$("people-merge").addEventListener(
  "click",
  guard(() => mergePeople(selectedPeople().map((c) => c.clusterId))),
);
$("people-undo").addEventListener("click", guard(undoLast));
$("person-split").addEventListener("click", guard(splitFaces));
$("person-rename-start").addEventListener("click", startRename);
$("person-rename-cancel").addEventListener("click", () => stopRename(true));
$("person-rename").addEventListener("submit", guard(labelPerson));
$("person-close").addEventListener("click", closePerson);
$("person").addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  event.preventDefault();
  if (!$("person-label-field").hidden) stopRename(true);
  else closePerson();
});
