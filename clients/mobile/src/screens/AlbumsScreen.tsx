// FaceFlow albums: the list, a new album, and the open album (AlbumScreen).
import { useCallback, useEffect, useState } from "react";
import { View } from "react-native";

import { type Album, type Api, describe } from "../api";
import { Body, Busy, Button, ErrorNote, Field, Heading, styles } from "../ui";
import { AlbumScreen } from "./AlbumScreen";

export function AlbumsScreen({ api }: { api: Api }) {
  const [albums, setAlbums] = useState<Album[] | null>(null);
  const [open, setOpen] = useState<Album | null>(null);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      setAlbums((await api.listAlbums()).items);
    } catch (err) {
      setError(describe(err));
    }
  }, [api]);

  useEffect(() => {
    load();
  }, [load]);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const album = await api.createAlbum(name.trim());
      setName("");
      setOpen({ ...album, photoCount: 0 });
      await load();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  if (open) {
    return (
      <AlbumScreen
        api={api}
        album={open}
        onBack={() => {
          setOpen(null);
          load();
        }}
      />
    );
  }
  return (
    <View style={{ gap: 12 }}>
      <Heading>Albums</Heading>
      <Field label="New album name" value={name} onChangeText={setName} maxLength={100} onSubmitEditing={create} />
      <Button label="Create album" onPress={create} disabled={busy || !name.trim()} />
      <ErrorNote message={error} />
      {albums === null && !error ? <Busy label="Loading albums…" /> : null}
      {albums !== null && !albums.length ? <Body muted>No albums yet: create one above.</Body> : null}
      {albums === null && error ? <Button kind="secondary" label="Try again" onPress={load} /> : null}
      <View style={{ gap: 8 }}>
        {albums?.map((a) => (
          <View key={a.albumId} style={styles.row}>
            <Button kind="secondary" label={`${a.name} (${a.photoCount} photo${a.photoCount === 1 ? "" : "s"})`} hint="Opens the album" onPress={() => setOpen(a)} />
          </View>
        ))}
      </View>
    </View>
  );
}
