// The app's few building blocks: light and dark colours from the OS setting, text that follows
// the OS font scale (React Native's default; nothing here turns it off), and controls that carry
// an accessibility role and label.
import type { ReactNode } from "react";
import {
  ActivityIndicator,
  Pressable,
  StyleSheet,
  Text,
  TextInput,
  type TextInputProps,
  useColorScheme,
  View,
} from "react-native";

const palettes = {
  light: { bg: "#ffffff", fg: "#111418", muted: "#5b6470", card: "#f1f3f5", accent: "#2457c5", onAccent: "#ffffff", danger: "#b3261e", border: "#c9ced6" },
  dark: { bg: "#101215", fg: "#eef1f4", muted: "#a3acb8", card: "#1d2126", accent: "#8fb0ff", onAccent: "#0b1530", danger: "#ffb4ab", border: "#3a414a" },
};
export type Palette = (typeof palettes)["light"];

export function usePalette(): Palette {
  return palettes[useColorScheme() === "dark" ? "dark" : "light"];
}

export function Screen({ title, children }: { title: string; children: ReactNode }) {
  const c = usePalette();
  return (
    <View style={[styles.screen, { backgroundColor: c.bg }]}>
      <Text role="heading" style={[styles.title, { color: c.fg }]}>
        {title}
      </Text>
      {children}
    </View>
  );
}

export function Heading({ children }: { children: ReactNode }) {
  const c = usePalette();
  return (
    <Text role="heading" style={[styles.heading, { color: c.fg }]}>
      {children}
    </Text>
  );
}

export function Body({ children, muted, testID }: { children: ReactNode; muted?: boolean; testID?: string }) {
  const c = usePalette();
  return (
    <Text testID={testID} style={[styles.body, { color: muted ? c.muted : c.fg }]}>
      {children}
    </Text>
  );
}

/** An error as the person should read it, announced by screen readers. */
export function ErrorNote({ message }: { message: string | null }) {
  const c = usePalette();
  if (!message) return null;
  return (
    <Text role="alert" aria-live="assertive" style={[styles.body, { color: c.danger }]}>
      {message}
    </Text>
  );
}

export function Busy({ label }: { label: string }) {
  const c = usePalette();
  return (
    <View style={styles.row} accessible aria-label={label} role="progressbar" aria-busy>
      <ActivityIndicator color={c.accent} />
      <Text style={[styles.body, { color: c.muted }]}>{label}</Text>
    </View>
  );
}

interface ButtonProps {
  label: string;
  onPress: () => void;
  disabled?: boolean;
  kind?: "primary" | "secondary" | "danger";
  hint?: string;
}

export function Button({ label, onPress, disabled, kind = "primary", hint }: ButtonProps) {
  const c = usePalette();
  const filled = kind === "primary";
  return (
    <Pressable
      role="button"
      aria-label={label}
      accessibilityHint={hint}
      aria-disabled={Boolean(disabled)}
      disabled={disabled}
      onPress={onPress}
      style={({ pressed }) => [
        styles.button,
        {
          backgroundColor: filled ? c.accent : "transparent",
          borderColor: kind === "danger" ? c.danger : c.accent,
          opacity: disabled ? 0.45 : pressed ? 0.8 : 1,
        },
      ]}
    >
      <Text style={[styles.buttonText, { color: filled ? c.onAccent : kind === "danger" ? c.danger : c.accent }]}>
        {label}
      </Text>
    </Pressable>
  );
}

/** A toggle shown as a chip (people, styles): role checkbox, its state announced. */
export function Chip({ label, checked, onToggle, children }: { label: string; checked: boolean; onToggle: () => void; children?: ReactNode }) {
  const c = usePalette();
  return (
    <Pressable
      role="checkbox"
      aria-label={label}
      aria-checked={checked}
      onPress={onToggle}
      style={[styles.chip, { borderColor: checked ? c.accent : c.border, backgroundColor: checked ? c.card : "transparent" }]}
    >
      {children}
      <Text style={[styles.body, { color: c.fg }]}>{(checked ? "✓ " : "") + label}</Text>
    </Pressable>
  );
}

export function Field({ label, ...props }: TextInputProps & { label: string }) {
  const c = usePalette();
  return (
    <View style={styles.field}>
      <Text style={[styles.body, { color: c.fg }]}>{label}</Text>
      <TextInput
        aria-label={label}
        placeholderTextColor={c.muted}
        style={[styles.input, { color: c.fg, borderColor: c.border, backgroundColor: c.card }]}
        {...props}
      />
    </View>
  );
}

/** A determinate bar: `value` of `max`. */
export function Bar({ value, max, label }: { value: number; max: number; label: string }) {
  const c = usePalette();
  const pct = max > 0 ? Math.min(100, Math.round((100 * value) / max)) : 0;
  return (
    <View
      accessible
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      style={[styles.bar, { backgroundColor: c.card, borderColor: c.border }]}
    >
      <View style={{ width: `${pct}%`, height: "100%", backgroundColor: c.accent }} />
    </View>
  );
}

export const styles = StyleSheet.create({
  screen: { flex: 1, padding: 16, gap: 12 },
  title: { fontSize: 26, fontWeight: "700" },
  heading: { fontSize: 20, fontWeight: "600", marginTop: 8 },
  body: { fontSize: 16 },
  row: { flexDirection: "row", flexWrap: "wrap", gap: 8, alignItems: "center" },
  button: { paddingVertical: 10, paddingHorizontal: 16, borderRadius: 8, borderWidth: 1, minHeight: 44, justifyContent: "center" },
  buttonText: { fontSize: 16, fontWeight: "600", textAlign: "center" },
  chip: { flexDirection: "row", alignItems: "center", gap: 6, borderWidth: 2, borderRadius: 20, paddingVertical: 6, paddingHorizontal: 12, minHeight: 44 },
  field: { gap: 4 },
  input: { borderWidth: 1, borderRadius: 8, padding: 10, fontSize: 16, minHeight: 44 },
  bar: { height: 10, borderRadius: 5, borderWidth: 1, overflow: "hidden" },
  thumb: { width: 96, height: 128, borderRadius: 6 },
  face: { width: 40, height: 40, borderRadius: 20 },
});
