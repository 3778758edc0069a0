// Style: pick up to four styles, a selfie from the camera or the library, send it (the presigned
// POST of the upload ticket), follow the process style by style, then see the results.
import { uploadPhoto } from "@style-backend/client";
import { useCallback, useEffect, useRef, useState } from "react";
import { Image, Platform, View } from "react-native";

import { type Api, describe, type Progress, type Result, type Style } from "../api";
import { pickPhotos } from "../pick";
import type { PickedFile } from "../uploads";
import { Body, Busy, Button, Chip, ErrorNote, Heading, styles } from "../ui";

export const MAX_STYLES = 4; // the API's resourceIds maxItems
const POLL_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Phase = "idle" | "uploading" | "styling" | "done";

export function StudioScreen({ api, userId }: { api: Api; userId: string }) {
  const [stylesList, setStyles] = useState<Style[] | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [results, setResults] = useState<Result[] | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [phase, setPhase] = useState<Phase>("idle");
  const [error, setError] = useState<string | null>(null);
  const [erasing, setErasing] = useState<"no" | "asking" | "busy" | "done">("no");
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

  // `expected`: "processId/resourceId" of results that must be listed: the gallery may lag a
  // moment behind a COMPLETED status (the result's row is written after the style ends).
  const loadResults = useCallback(
    async (expected: string[] = []) => {
      for (let attempt = 0; ; attempt++) {
        const { items } = await api.style.listResults(userId, { limit: 50 });
        const listed = new Set(items.map((r) => `${r.processId}/${r.resourceId}`));
        if (attempt >= 10 || expected.every((key) => listed.has(key))) {
          setResults(items);
          return;
        }
        await sleep(POLL_MS);
      }
    },
    [api, userId],
  );

  const load = useCallback(async () => {
    setError(null);
    try {
      const { items } = await api.style.listStyles();
      setStyles(items);
      setPicked(items.slice(0, MAX_STYLES).map((s) => s.resourceId));
      await loadResults();
    } catch (err) {
      setError(describe(err));
    }
  }, [api, loadResults]);

  useEffect(() => {
    load();
  }, [load]);

  const toggle = (id: string) =>
    setPicked((now) =>
      now.includes(id) ? now.filter((x) => x !== id) : now.length >= MAX_STYLES ? now : [...now, id],
    );

  const send = async (selfie: PickedFile) => {
    setPhase("uploading");
    setProgress(null);
    const ticket = await api.style.requestUpload({
      contentType: selfie.type as "image/jpeg",
      resourceIds: picked,
    });
    // React Native's FormData sends a file by its URI; the web's needs the bytes.
    const body =
      Platform.OS === "web"
        ? (selfie.blob ?? (await (await fetch(selfie.uri)).blob()))
        : ({ uri: selfie.uri, name: selfie.name, type: selfie.type } as unknown as Blob);
    await uploadPhoto(ticket.upload, body, (input, init) => globalThis.fetch(input, init));
    setPhase("styling");
    let now: Progress;
    for (;;) {
      now = await api.style.getProcess(userId, ticket.processId);
      if (!alive.current) return;
      setProgress(now);
      if (now.status === "COMPLETED" || now.status === "FAILED") break;
      await sleep(POLL_MS);
    }
    const done = Object.entries(now.styles).filter(([, s]) => s.status === "COMPLETED");
    await loadResults(done.map(([id]) => `${ticket.processId}/${id}`));
    setPhase("done");
  };

  const pick = async (source: "camera" | "library") => {
    setError(null);
    try {
      const { files, denied } = await pickPhotos(source, false);
      if (denied) {
        setError(`Allow access to the ${source === "camera" ? "camera" : "photo library"} in Settings.`);
        return;
      }
      if (files[0]) await send(files[0]);
    } catch (err) {
      setError(describe(err));
      setPhase("idle");
    }
  };

  // Two steps, not a system dialog: the web export has none (Alert is a no-op there).
  const erase = async () => {
    setErasing("busy");
    setError(null);
    try {
      await api.style.eraseUserData(userId);
      setProgress(null);
      await loadResults();
      setErasing("done");
    } catch (err) {
      setError(describe(err));
      setErasing("no");
    }
  };

  if (!stylesList) {
    return (
      <View style={{ gap: 12 }}>
        {error ? (
          <>
            <ErrorNote message={error} />
            <Button kind="secondary" label="Try again" onPress={load} />
          </>
        ) : (
          <Busy label="Loading styles…" />
        )}
      </View>
    );
  }
  const working = phase === "uploading" || phase === "styling";
  // Styles by the name their chips show (a result names its style's resourceId).
  const names = Object.fromEntries(stylesList.map((s) => [s.resourceId, s.theme]));
  const nameOf = (id: string) => names[id] ?? id;
  return (
    <View style={{ gap: 12 }}>
      <Heading>Styles</Heading>
      {stylesList.length ? (
        <Body muted>
          Pick up to {MAX_STYLES} ({picked.length} picked).
        </Body>
      ) : (
        <Body>No styles are available yet.</Body>
      )}
      <View style={styles.row}>
        {stylesList.map((s) => (
          <Chip key={s.resourceId} label={s.theme} checked={picked.includes(s.resourceId)} onToggle={() => toggle(s.resourceId)}>
            <Image source={{ uri: s.imageUrl }} style={styles.face} accessibilityIgnoresInvertColors alt="" />
          </Chip>
        ))}
      </View>
      <View style={styles.row}>
        <Button label="Take a selfie" onPress={() => pick("camera")} disabled={working || !picked.length} />
        <Button kind="secondary" label="Choose a selfie" onPress={() => pick("library")} disabled={working || !picked.length} />
      </View>
      {phase === "uploading" ? <Busy label="Uploading your selfie…" /> : null}
      {progress ? <ProcessView progress={progress} names={names} /> : null}
      <ErrorNote message={error} />
      <Heading>Your results</Heading>
      {results === null ? <Busy label="Loading results…" /> : null}
      {results && !results.length ? <Body muted>No results yet.</Body> : null}
      <View style={styles.row}>
        {results?.map((r) => (
          <View key={`${r.processId}/${r.resourceId}`} testID="result" style={{ gap: 4 }}>
            <Image source={{ uri: r.url }} style={styles.thumb} alt={`Result in style ${nameOf(r.resourceId)}`} aria-label={`Result in style ${nameOf(r.resourceId)}`} />
            <Body muted>{nameOf(r.resourceId)}</Body>
          </View>
        ))}
      </View>
      {erasing === "asking" ? (
        <View style={styles.row}>
          <Body>Delete every selfie and result of yours? This cannot be undone.</Body>
          <Button kind="danger" label="Yes, delete everything" onPress={erase} />
          <Button kind="secondary" label="Keep them" onPress={() => setErasing("no")} />
        </View>
      ) : (
        <Button kind="danger" label="Delete my photos and results" disabled={working || erasing === "busy"} onPress={() => setErasing("asking")} />
      )}
      {erasing === "done" ? <Body>Your photos and results were deleted.</Body> : null}
    </View>
  );
}

function ProcessView({ progress, names }: { progress: Progress; names: Record<string, string> }) {
  const head =
    progress.status === "FAILED"
      ? `Styling failed: ${progress.error?.message ?? "see each style"}`
      : progress.status === "COMPLETED"
        ? "Styling done."
        : `Styling… (${progress.status.toLowerCase()})`;
  return (
    <View aria-live="polite" style={{ gap: 4 }} testID="process">
      {progress.status === "FAILED" ? <ErrorNote message={head} /> : <Body>{head}</Body>}
      {Object.entries(progress.styles).map(([id, s]) => {
        // A process that failed before styling never started its styles: say so, not "pending".
        const shown = progress.status === "FAILED" && s.status === "PENDING" ? "not started" : s.status.toLowerCase();
        return (
          <Body key={id} muted testID={`style-${id}`}>
            {`${names[id] ?? id}: ${shown}${s.error ? ` (${s.error.message})` : ""}`}
          </Body>
        );
      })}
    </View>
  );
}
