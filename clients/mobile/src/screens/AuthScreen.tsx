// Sign in, sign up, and confirm the address with the code Cognito mailed.
import { useState } from "react";
import { View } from "react-native";

import type { Auth, Session } from "../auth";
import { Body, Busy, Button, ErrorNote, Field, Screen, styles } from "../ui";

type Mode = "signIn" | "signUp" | "confirm";

export function AuthScreen({ auth, onSignedIn }: { auth: Auth; onSignedIn: (s: Session) => void }) {
  const [mode, setMode] = useState<Mode>("signIn");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const signIn = () => run(async () => onSignedIn(await auth.signIn(email.trim(), password)));
  const signUp = () =>
    run(async () => {
      const { confirmed } = await auth.signUp(email.trim(), password);
      if (confirmed) {
        onSignedIn(await auth.signIn(email.trim(), password));
        return;
      }
      setNote(`We sent a code to ${email.trim()}. Enter it to confirm your address.`);
      setMode("confirm");
    });
  const confirm = () =>
    run(async () => {
      await auth.confirm(email.trim(), code.trim());
      onSignedIn(await auth.signIn(email.trim(), password));
    });

  const title = { signIn: "Sign in", signUp: "Create an account", confirm: "Confirm your email" }[mode];
  return (
    <Screen title={title}>
      {mode === "confirm" ? (
        <>
          {note ? <Body>{note}</Body> : null}
          <Field label="Confirmation code" value={code} onChangeText={setCode} keyboardType="number-pad" autoComplete="one-time-code" />
          <Button label="Confirm" onPress={confirm} disabled={busy || !code.trim()} />
        </>
      ) : (
        <>
          <Field label="Email" value={email} onChangeText={setEmail} autoCapitalize="none" autoComplete="email" keyboardType="email-address" inputMode="email" />
          <Field label="Password" value={password} onChangeText={setPassword} secureTextEntry autoComplete={mode === "signUp" ? "new-password" : "current-password"} />
          {mode === "signUp" ? <Body muted>At least 12 characters with upper and lower case letters, a digit and a symbol.</Body> : null}
          <View style={styles.row}>
            <Button
              label={mode === "signIn" ? "Sign in" : "Sign up"}
              onPress={mode === "signIn" ? signIn : signUp}
              disabled={busy || !email.trim() || !password}
            />
            <Button
              kind="secondary"
              label={mode === "signIn" ? "I need an account" : "I have an account"}
              onPress={() => {
                setError(null);
                setMode(mode === "signIn" ? "signUp" : "signIn");
              }}
              disabled={busy}
            />
          </View>
        </>
      )}
      {busy ? <Busy label={mode === "signUp" ? "Creating your account…" : "Signing in…"} /> : null}
      <ErrorNote message={error} />
    </Screen>
  );
}
