// The app: its configuration (config.json), then sign-in, the terms, and two tabs: Style (selfie
// → styled portraits) and Albums (FaceFlow). Plain state, no navigation library: five screens.
import { StatusBar } from "expo-status-bar";
import { useCallback, useEffect, useMemo, useState } from "react";
import { ScrollView, View } from "react-native";
import { SafeAreaProvider, SafeAreaView } from "react-native-safe-area-context";

import { createApi } from "./api";
import { Auth, type Session } from "./auth";
import { type AppConfig, loadConfig } from "./config";
import { AgreementScreen } from "./screens/AgreementScreen";
import { AlbumsScreen } from "./screens/AlbumsScreen";
import { AuthScreen } from "./screens/AuthScreen";
import { StudioScreen } from "./screens/StudioScreen";
import { Body, Busy, Button, ErrorNote, Screen, styles, usePalette } from "./ui";

type Tab = "style" | "albums";

export default function App() {
  const c = usePalette();
  const [config, setConfig] = useState<AppConfig | null>(null);
  const [configError, setConfigError] = useState<string | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [agreed, setAgreed] = useState(false);
  const [tab, setTab] = useState<Tab>("style");

  const load = useCallback(() => {
    setConfigError(null);
    loadConfig()
      .then(setConfig)
      .catch((err: Error) => setConfigError(err.message));
  }, []);
  useEffect(load, [load]);

  const auth = useMemo(() => (config ? new Auth(config) : null), [config]);
  const api = useMemo(
    () => (config && auth && session ? createApi(config.apiUrl, () => auth.token()) : null),
    [config, auth, session],
  );
  const onAgreed = useCallback(() => setAgreed(true), []);
  const signOut = () => {
    auth?.signOut();
    setSession(null);
    setAgreed(false);
    setTab("style");
  };

  let body;
  if (!config || !auth) {
    body = (
      <Screen title="Style Backend">
        {configError ? (
          <>
            <ErrorNote message={configError} />
            <Button kind="secondary" label="Try again" onPress={load} />
          </>
        ) : (
          <Busy label="Connecting…" />
        )}
      </Screen>
    );
  } else if (!session || !api) {
    body = <AuthScreen auth={auth} onSignedIn={setSession} />;
  } else if (!agreed) {
    body = <AgreementScreen api={api} onAgreed={onAgreed} />;
  } else {
    body = (
      <Screen title={tab === "style" ? "Style" : "Albums"}>
        <View style={styles.row} role="tablist">
          {(["style", "albums"] as const).map((t) => (
            <View key={t} role="tab" aria-selected={tab === t}>
              <Button kind={tab === t ? "primary" : "secondary"} label={t === "style" ? "Style" : "Albums"} onPress={() => setTab(t)} />
            </View>
          ))}
          <Button kind="danger" label="Sign out" onPress={signOut} />
        </View>
        <Body muted>{`Signed in as ${session.email}`}</Body>
        {tab === "style" ? <StudioScreen api={api} userId={session.sub} /> : <AlbumsScreen api={api} />}
      </Screen>
    );
  }
  return (
    <SafeAreaProvider>
      <SafeAreaView style={{ flex: 1, backgroundColor: c.bg }}>
        <StatusBar style="auto" />
        <ScrollView contentContainerStyle={{ flexGrow: 1 }}>{body}</ScrollView>
      </SafeAreaView>
    </SafeAreaProvider>
  );
}
