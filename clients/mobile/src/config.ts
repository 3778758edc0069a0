// Where the app finds its backend: the same `/config.json` shape the local page reads (the stack's
// outputs: API URL, Cognito pool and client, region; `cognitoEndpoint` only from the local
// runtime; `websocketUrl` where a stack has one). The web export reads it from its own origin;
// a phone from EXPO_PUBLIC_CONFIG_URL, or takes it whole from EXPO_PUBLIC_CONFIG (a deployed
// stack's outputs as JSON); Expo inlines both at bundle time.
import { Platform } from "react-native";

export interface AppConfig {
  apiUrl: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  /** The local runtime's Cognito (moto): present only when `make up` is the target. */
  cognitoEndpoint?: string;
  websocketUrl?: string;
}

export function configUrl(): string {
  const fromEnv = process.env.EXPO_PUBLIC_CONFIG_URL;
  if (fromEnv) return fromEnv;
  if (Platform.OS === "web" && typeof location !== "undefined") {
    return `${location.origin}/config.json`;
  }
  throw new Error("Set EXPO_PUBLIC_CONFIG_URL to the stack's config.json (see the README).");
}

export async function loadConfig(): Promise<AppConfig> {
  const inline = process.env.EXPO_PUBLIC_CONFIG;
  const url = inline ? "EXPO_PUBLIC_CONFIG" : configUrl();
  let config: Partial<AppConfig>;
  if (inline) {
    config = JSON.parse(inline);
  } else {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`Could not load ${url} (HTTP ${response.status}).`);
    config = await response.json();
  }
  for (const key of ["apiUrl", "region", "userPoolId", "userPoolClientId"] as const) {
    if (!config[key]) throw new Error(`${url} has no ${key}.`);
  }
  return config as AppConfig;
}
