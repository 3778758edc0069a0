// An album's people (FaceFlow's clusters of faces) as chips: select to merge or share, one
// selected opens its panel (name it, split faces off), undo the last edit; then share the
// selected people's photos with recipients. The API decides every outcome: after each edit the
// people are loaded again, so nothing is shown that the API does not have.
import { useCallback, useEffect, useState } from "react";
import { Image, View } from "react-native";

import { type Api, type Cluster, describe, type ShareCreated } from "../api";
import { Body, Busy, Button, Chip, ErrorNote, Field, Heading, styles } from "../ui";

const nameOf = (c: Cluster) => c.label || "Unnamed";
const faces = (n: number) => `${n} face${n === 1 ? "" : "s"}`;

export function PeoplePanel({ api, albumId, reloadKey }: { api: Api; albumId: string; reloadKey: string }) {
  const [people, setPeople] = useState<Cluster[] | null>(null);
  const [canUndo, setCanUndo] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const load = useCallback(async () => {
    const [clusters, edits] = await Promise.all([api.listPeople(albumId), api.listEdits(albumId)]);
    setPeople(clusters);
    setCanUndo(edits.items.length > 0);
    const ids = new Set(clusters.map((c) => c.clusterId));
    setSelected((now) => now.filter((id) => ids.has(id)));
  }, [api, albumId]);

  useEffect(() => {
    load().catch((err) => setError(describe(err)));
  }, [load, reloadKey]);

  // One edit at a time; the people are loaded again whatever it answered.
  const edit = async (change: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      setNote(await change());
    } catch (err) {
      setError(describe(err));
    }
    try {
      await load();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  if (people === null) return error ? <ErrorNote message={error} /> : <Busy label="Loading people…" />;
  const chosen = people.filter((c) => selected.includes(c.clusterId));
  const toggle = (id: string) =>
    setSelected((now) => (now.includes(id) ? now.filter((x) => x !== id) : [...now, id]));
  return (
    <View style={{ gap: 10 }} aria-busy={busy}>
      {people.length ? null : <Body muted>No people found yet.</Body>}
      <View style={styles.row}>
        {people.map((c) => (
          <Chip key={c.clusterId} label={`${nameOf(c)}, ${faces(c.size)}`} checked={selected.includes(c.clusterId)} onToggle={() => toggle(c.clusterId)}>
            {c.faces[0] ? <Image source={{ uri: c.faces[0].cropUrl }} style={styles.face} alt="" /> : null}
          </Chip>
        ))}
      </View>
      <View style={styles.row}>
        <Button
          label={chosen.length > 1 ? `Merge ${chosen.length} people` : "Merge people"}
          hint="The selected people are one person"
          disabled={busy || chosen.length < 2}
          onPress={() =>
            edit(async () => {
              await api.merge(albumId, selected);
              setSelected([]);
              return `Merged ${chosen.length} people.`;
            })
          }
        />
        <Button
          kind="secondary"
          label="Undo last change"
          disabled={busy || !canUndo}
          onPress={() => edit(async () => `Undid the last ${(await api.undo(albumId)).type.toLowerCase()}.`)}
        />
      </View>
      {note ? <Body>{note}</Body> : null}
      <ErrorNote message={error} />
      {chosen.length === 1 && chosen[0] ? (
        <PersonEditor key={chosen[0].clusterId} person={chosen[0]} busy={busy} onEdit={edit} api={api} albumId={albumId} />
      ) : null}
      {chosen.length ? <ShareForm api={api} albumId={albumId} people={chosen} /> : null}
    </View>
  );
}

function PersonEditor({ api, albumId, person, busy, onEdit }: {
  api: Api;
  albumId: string;
  person: Cluster;
  busy: boolean;
  onEdit: (change: () => Promise<string>) => Promise<void>;
}) {
  const [name, setName] = useState(person.label ?? "");
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (id: string) =>
    setPicked((now) => (now.includes(id) ? now.filter((x) => x !== id) : [...now, id]));
  // Splitting every face off would leave the same person under a new id: nothing to do.
  const canSplit = picked.length > 0 && picked.length < person.faces.length;
  return (
    <View style={{ gap: 8 }} testID="person">
      <Heading>{`${nameOf(person)} · ${faces(person.size)}`}</Heading>
      <Field label="Name" value={name} onChangeText={setName} maxLength={100} />
      <Button
        label="Save name"
        disabled={busy || !name.trim()}
        onPress={() => onEdit(async () => `Named ${nameOf(await api.label(albumId, person.clusterId, name))}.`)}
      />
      <Body muted>Faces that are someone else: select them, then split them off.</Body>
      <View style={styles.row}>
        {person.faces.map((f, i) => (
          <Chip key={f.faceId} label={`Face ${i + 1}`} checked={picked.includes(f.faceId)} onToggle={() => toggle(f.faceId)}>
            <Image source={{ uri: f.cropUrl }} style={styles.face} alt="" />
          </Chip>
        ))}
      </View>
      <Button
        kind="secondary"
        label={picked.length ? `Split ${faces(picked.length)} off` : "Split selected faces"}
        disabled={busy || !canSplit}
        onPress={() =>
          onEdit(async () => {
            await api.split(albumId, person.clusterId, picked);
            return `Split ${faces(picked.length)} off into a new person.`;
          })
        }
      />
    </View>
  );
}

const DAYS = [1, 3, 7];

function ShareForm({ api, albumId, people }: { api: Api; albumId: string; people: Cluster[] }) {
  const ids = people.map((c) => c.clusterId).join(",");
  const [count, setCount] = useState<number | null>(null);
  const [recipients, setRecipients] = useState("");
  const [days, setDays] = useState(3);
  // Off by default: the photos ship without where they were taken (docs/sharing.md).
  const [keepLocation, setKeepLocation] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [shared, setShared] = useState<ShareCreated | null>(null);

  useEffect(() => {
    let current = true;
    setCount(null);
    api
      .previewShare(albumId, ids.split(","))
      .then((p) => current && setCount(p.photoCount))
      .catch((err) => current && setError(describe(err)));
    return () => {
      current = false;
    };
  }, [api, albumId, ids]);

  const share = async () => {
    setBusy(true);
    setError(null);
    try {
      const emails = recipients.split(/[\s,;]+/).filter(Boolean);
      setShared(
        await api.share(albumId, {
          recipients: emails,
          filters: { clusterIds: ids.split(",") },
          expiresInDays: days,
          keepLocation,
        }),
      );
      setRecipients("");
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <View style={{ gap: 8 }} testID="share">
      <Heading>Share their photos</Heading>
      <Body>
        {count === null ? "Counting photos…" : `${count} photo${count === 1 ? "" : "s"} of ${people.map(nameOf).join(", ")} will be shared.`}
      </Body>
      <Field label="Recipients (emails)" value={recipients} onChangeText={setRecipients} autoCapitalize="none" keyboardType="email-address" placeholder="friend@example.com" />
      <View style={styles.row}>
        {DAYS.map((d) => (
          <Chip key={d} label={`Expires in ${d} day${d > 1 ? "s" : ""}`} checked={days === d} onToggle={() => setDays(d)} />
        ))}
      </View>
      <Chip
        label="Keep where the photos were taken (location)"
        checked={keepLocation}
        onToggle={() => setKeepLocation(!keepLocation)}
      />
      <Button label="Share" onPress={share} disabled={busy || !recipients.trim() || !count} />
      <ErrorNote message={error} />
      {shared ? (
        <Body testID="share-created">
          {`Shared ${shared.photoCount} photo${shared.photoCount === 1 ? "" : "s"} with ${shared.recipients.join(", ")} (${shared.status.toLowerCase()}, until ${new Date(shared.expiresAt).toLocaleDateString()}). They get an email with the link.`}
        </Body>
      ) : null}
    </View>
  );
}
