// Where the app finds its backend: the same `/config.json` shape the local page reads (the stack's
// outputs: API URL, Cognito pool and client, region; `cognitoEndpoint` only from the local
// runtime; `webSocketUrl` where a stack has one). The web export reads it from its own origin;
// a phone from EXPO_PUBLIC_CONFIG_URL (inlined at bundle time by Expo).
import { Platform } from "react-native";

export interface AppConfig {
  apiUrl: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  /** The local runtime's Cognito (moto): present only when `make up` is the target. */
  cognitoEndpoint?: string;
  webSocketUrl?: string;
}

export function configUrl(): string {
  const fromEnv = process.env.EXPO_PUBLIC_CONFIG_URL;
  if (fromEnv) return fromEnv;
  if (Platform.OS === "web" && typeof location !== "undefined") {
    return `${location.origin}/config.json`;
  }
  throw new Error("Set EXPO_PUBLIC_CONFIG_URL to the stack's config.json (see the README).");
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  const url = configUrl();
  const response = await fetchImpl(url);
  if (!response.ok) throw new Error(`Could not load ${url} (HTTP ${response.status}).`);
  const config = (await response.json()) as Partial<AppConfig>;
  for (const key of ["apiUrl", "region", "userPoolId", "userPoolClientId"] as const) {
    if (!config[key]) throw new Error(`${url} has no ${key}.`);
  }
  return config as AppConfig;
}
