// One album: add photos (many at once, per-file progress, resumable), its status and photos,
// and its people (PeoplePanel). Uploads cut off when the app went to the background go on from
// their stored part list when it comes back (AppState "active").
import { useCallback, useEffect, useRef, useState } from "react";
import { AppState, Image, View } from "react-native";

import { type Album, type AlbumStatus, type Api, describe, type Photo } from "../api";
import { pickPhotos } from "../pick";
import { AlbumUploader, type FileProgress, pendingUploads, type PickedFile } from "../uploads";
import { Bar, Body, Busy, Button, ErrorNote, Heading, styles } from "../ui";
import { PeoplePanel } from "./PeoplePanel";

const POLL_MS = 1500;
const FINISHED = new Set(["SUCCEEDED", "FAILED"]);
const STATE_TEXT: Record<FileProgress["state"], string> = {
  waiting: "waiting",
  uploading: "uploading",
  uploaded: "uploaded",
  duplicate: "already in the album (duplicate), not uploaded",
  paused: "paused",
  failed: "failed",
};

export function AlbumScreen({ api, album, onBack }: { api: Api; album: Album; onBack: () => void }) {
  const albumId = album.albumId;
  const [status, setStatus] = useState<AlbumStatus | null>(null);
  const [photos, setPhotos] = useState<Photo[]>([]);
  const [files, setFiles] = useState<Record<string, FileProgress>>({});
  const [unfinished, setUnfinished] = useState<string[]>([]);
  const [uploading, setUploading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [jobsKey, setJobsKey] = useState("");
  const uploader = useRef(new AlbumUploader(api, (p) => setFiles((all) => ({ ...all, [p.key]: p }))));

  const refresh = useCallback(async () => {
    const [now, page] = await Promise.all([api.albumStatus(albumId), api.listPhotos(albumId)]);
    setStatus(now);
    setPhotos(page.items);
    // People change when a job ends (its clustering step): the panel reloads on a new key.
    setJobsKey(now.jobs.filter((j) => FINISHED.has(j.status)).map((j) => j.jobId).sort().join(","));
    return now;
  }, [api, albumId]);

  const checkUnfinished = useCallback(async () => {
    const waiting = Object.values(await pendingUploads()).filter((p) => p.albumId === albumId);
    setUnfinished(waiting.map((p) => p.name));
  }, [albumId]);

  const upload = useCallback(
    async (run: () => Promise<void>) => {
      setUploading(true);
      setError(null);
      try {
        await run();
      } catch (err) {
        setError(describe(err));
      } finally {
        setUploading(false);
        await checkUnfinished();
        await refresh().catch((err) => setError(describe(err)));
      }
    },
    [checkUnfinished, refresh],
  );

  useEffect(() => {
    refresh().catch((err) => setError(describe(err)));
    checkUnfinished();
  }, [refresh, checkUnfinished]);

  // Follow the album while it works, or while photos are on their way.
  const settled = status !== null && status.status === "IDLE" && !status.photos.pending && !uploading;
  useEffect(() => {
    if (settled) return undefined;
    const timer = setInterval(() => refresh().catch((err) => setError(describe(err))), POLL_MS);
    return () => clearInterval(timer);
  }, [settled, refresh]);

  // Back from the background: uploads the OS cut off go on from the parts S3 already has.
  const paused = Object.values(files).some((f) => f.state === "paused");
  useEffect(() => {
    const subscription = AppState.addEventListener("change", (state) => {
      if (state === "active" && paused && !uploading) upload(() => uploader.current.resume(albumId));
    });
    return () => subscription.remove();
  }, [paused, uploading, upload, albumId]);

  const add = async () => {
    setError(null);
    const { files: picked, denied } = await pickPhotos("library", true).catch((err) => {
      setError(describe(err));
      return { files: [] as PickedFile[], denied: false };
    });
    if (denied) setError("Allow access to the photo library in Settings.");
    if (picked.length) await upload(() => uploader.current.uploadAll(albumId, picked));
  };

  const rows = Object.values(files);
  return (
    <View style={{ gap: 12 }}>
      <Heading>{album.name}</Heading>
      <View style={styles.row}>
        <Button kind="secondary" label="All albums" onPress={onBack} />
        <Button label="Add photos" onPress={add} disabled={uploading} />
      </View>
      {unfinished.length && !uploading ? (
        <View style={{ gap: 6 }}>
          <Body>{`Unfinished uploads: ${unfinished.join(", ")}.`}</Body>
          <Button kind="secondary" label="Resume uploads" hint="Sends the parts that are missing; pick the photos again if this fails" onPress={() => upload(() => uploader.current.resume(albumId))} />
        </View>
      ) : null}
      {rows.map((f) => (
        <View key={f.key} style={{ gap: 2 }} testID="upload-row">
          <Body>{`${f.name}: ${STATE_TEXT[f.state]}${f.message ? ` (${f.message})` : ""}`}</Body>
          <Bar value={f.sent} max={f.total} label={`${f.name} upload`} />
        </View>
      ))}
      <ErrorNote message={error} />
      {status ? <StatusLine status={status} /> : <Busy label="Loading the album…" />}
      {status && !photos.length ? <Body muted>No photos yet: add some.</Body> : null}
      <View style={styles.row}>
        {photos.map((p) =>
          p.thumbnailUrl ? (
            <Image key={p.photoId} source={{ uri: p.thumbnailUrl }} style={styles.face} alt={`${p.fileName}: ${p.status.toLowerCase()}`} aria-label={`${p.fileName}: ${p.status.toLowerCase()}`} />
          ) : (
            <Body key={p.photoId} muted>{`${p.fileName}: ${p.status.toLowerCase()}${p.error ? ` (${p.error.message})` : ""}`}</Body>
          ),
        )}
      </View>
      <Heading>People</Heading>
      <PeoplePanel api={api} albumId={albumId} reloadKey={jobsKey} />
    </View>
  );
}

function StatusLine({ status }: { status: AlbumStatus }) {
  const p = status.photos;
  const text =
    `${status.status === "IDLE" ? "Ready" : "Processing"}: ${p.total} photos, ${p.processed} processed, ` +
    `${p.duplicates} duplicates, ${p.failed} failed, ${p.pending} pending; ${status.clusters} people`;
  return (
    <Body testID="album-status" muted>
      {text}
    </Body>
  );
}
