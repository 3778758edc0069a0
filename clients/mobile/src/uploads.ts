// Album uploads: one presigned PUT per photo, or S3 multipart part by part for large ones, with
// per-file progress. A multipart upload is remembered (album, photo, file) in AsyncStorage until
// it completes, so one cut off (the app sent to the background, killed, offline) resumes from the
// parts S3 already has (GET …/upload lists them) instead of starting over.
import AsyncStorage from "@react-native-async-storage/async-storage";

import { type Api, ApiError, type PhotoUploadTicket, type Schemas } from "./api";

export interface PickedFile {
  name: string;
  size: number;
  type: string;
  /** A file:// or blob: URI the bytes can be read from again. */
  uri: string;
  /** The bytes, when the picker handed them over already (the web). */
  blob?: Blob;
}

export type FileState = "waiting" | "uploading" | "uploaded" | "duplicate" | "paused" | "failed";

export interface FileProgress {
  key: string;
  name: string;
  sent: number;
  total: number;
  state: FileState;
  message?: string;
}

interface Pending {
  albumId: string;
  photoId: string;
  name: string;
  size: number;
  type: string;
  uri: string;
}

const STORE_KEY = "albumUploads";
const PARALLEL = 3;

export const fileKey = (file: { name: string; size: number }) => `${file.name}|${file.size}`;

export async function pendingUploads(): Promise<Record<string, Pending>> {
  return JSON.parse((await AsyncStorage.getItem(STORE_KEY)) || "{}");
}

async function remember(key: string, pending: Pending | null): Promise<void> {
  const all = await pendingUploads();
  if (pending) all[key] = pending;
  else delete all[key];
  await AsyncStorage.setItem(STORE_KEY, JSON.stringify(all));
}

async function bytesOf(file: PickedFile): Promise<Blob> {
  if (file.blob) return file.blob;
  const response = await fetch(file.uri);
  if (!response.ok) throw new Error(`cannot read ${file.name} again`);
  return response.blob();
}

/** PUT with upload progress (fetch reports none); resolves with the ETag S3 answered. */
export function put(
  url: string,
  body: Blob,
  headers: Record<string, string>,
  onProgress: (sent: number) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded);
    xhr.onload = () =>
      xhr.status < 300
        ? resolve(xhr.getResponseHeader("ETag") ?? "")
        : reject(new UploadError(`S3 refused the upload (HTTP ${xhr.status})`, false));
    xhr.onerror = () => reject(new UploadError("the connection was lost", true));
    xhr.send(body);
  });
}

/** `resumable`: the connection broke (background, offline): the stored parts let it go on. */
export class UploadError extends Error {
  constructor(
    message: string,
    readonly resumable: boolean,
  ) {
    super(message);
  }
}

type Report = (progress: FileProgress) => void;
type Multipart = Extract<NonNullable<PhotoUploadTicket["upload"]>, { method: "MULTIPART" }>;

async function sendParts(
  blob: Blob,
  upload: Multipart,
  received: Schemas["ReceivedPart"][],
  report: (sent: number) => void,
) {
  const have = new Set(received.map((p) => p.partNumber));
  let sent = received.reduce((n, p) => n + p.size, 0);
  const parts = received.map(({ partNumber, etag }) => ({ partNumber, etag }));
  for (const part of upload.parts.filter((p) => !have.has(p.partNumber))) {
    const start = (part.partNumber - 1) * upload.partSize;
    const chunk = blob.slice(start, start + upload.partSize);
    const base = sent;
    const etag = await put(part.url, chunk, {}, (n) => report(base + n));
    sent += chunk.size;
    parts.push({ partNumber: part.partNumber, etag });
  }
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

export class AlbumUploader {
  constructor(
    private api: Api,
    private report: Report,
  ) {}

  /** Uploads every file (3 at a time); one failing does not stop the others. */
  async uploadAll(albumId: string, files: PickedFile[]): Promise<void> {
    const queue = [...files];
    for (const file of files) this.state(file, 0, "waiting");
    const worker = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) await this.uploadOne(albumId, file);
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, files.length) }, worker));
  }

  /** Resumes this album's remembered uploads whose bytes can be read again. */
  async resume(albumId: string): Promise<void> {
    const all = Object.values(await pendingUploads()).filter((p) => p.albumId === albumId);
    await this.uploadAll(albumId, all);
  }

  private state(file: { name: string; size: number }, sent: number, state: FileState, message?: string) {
    this.report({ key: fileKey(file), name: file.name, sent, total: file.size, state, message });
  }

  private async uploadOne(albumId: string, file: PickedFile): Promise<void> {
    try {
      const saved = (await pendingUploads())[fileKey(file)];
      if (saved && saved.albumId === albumId) await this.resumeOne(albumId, saved.photoId, file);
      else await this.startOne(albumId, file);
    } catch (err) {
      const resumable = err instanceof UploadError && err.resumable;
      const message = err instanceof Error ? err.message : String(err);
      this.state(file, 0, resumable ? "paused" : "failed", message);
    }
  }

  private async startOne(albumId: string, file: PickedFile): Promise<void> {
    const ticket = await this.api.requestPhotoUpload(albumId, {
      fileName: file.name,
      contentType: file.type as Schemas["PhotoUploadRequest"]["contentType"],
      size: file.size,
    });
    if (ticket.upload === null) {
      this.state(file, file.size, "duplicate", "already in the album");
      return;
    }
    const blob = await bytesOf(file);
    const progress = (n: number) => this.state(file, n, "uploading");
    if (ticket.upload.method === "PUT") {
      await put(ticket.upload.url, blob, ticket.upload.headers, progress);
    } else {
      const { name, size, type, uri } = file;
      await remember(fileKey(file), { albumId, photoId: ticket.photoId, name, size, type, uri });
      const parts = await sendParts(blob, ticket.upload, [], progress);
      await this.api.completeUpload(albumId, ticket.photoId, parts);
      await remember(fileKey(file), null);
    }
    this.state(file, file.size, "uploaded");
  }

  private async resumeOne(albumId: string, photoId: string, file: PickedFile): Promise<void> {
    let status;
    try {
      status = await this.api.uploadProgress(albumId, photoId);
    } catch (err) {
      // Nothing left to resume (completed meanwhile, or the album or photo deleted): forget it.
      if (err instanceof ApiError && (err.status === 404 || err.status === 409)) {
        await remember(fileKey(file), null);
      }
      throw err;
    }
    const blob = await bytesOf(file);
    const progress = (n: number) => this.state(file, n, "uploading", "resumed");
    if (status.upload.method === "PUT") {
      await put(status.upload.url, blob, status.upload.headers, progress);
    } else {
      const parts = await sendParts(blob, status.upload, status.received, progress);
      await this.api.completeUpload(albumId, photoId, parts);
    }
    await remember(fileKey(file), null);
    this.state(file, file.size, "uploaded");
  }
}
