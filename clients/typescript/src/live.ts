// Live progress over the WebSocket API (docs/api.md, "Live progress"): the messages the backend
// pushes, typed from the REST API's own schemas, and a connection that opens again by itself.
// While it is not open, an app polls the REST API as before: `onState` says when.
import type { components } from "./schema.js";

type Schemas = components["schemas"];
type Token = string | null | undefined;

/** An album's status, as `GET /albums/{albumId}/status` answers it (without its jobs). */
export type AlbumStatusMessage = { type: "album.status" } & Pick<
  Schemas["AlbumStatus"],
  "albumId" | "status" | "photos" | "faces" | "clusters"
>;
/** A styling process, as `GET /apis/images/{userId}/processes/{processId}` answers it. */
export type ProcessStatusMessage = { type: "process.status" } & Schemas["Progress"];
/** A share's export. */
export type ShareStatusMessage = { type: "share.status" } & Pick<
  Schemas["Share"],
  "shareId" | "albumId" | "status"
>;
export type LiveMessage = AlbumStatusMessage | ProcessStatusMessage | ShareStatusMessage;
export type LiveState = "connecting" | "open" | "closed";

export interface LiveOptions {
  /** The WebSocket API's stage URL (style-live's `WebSocketUrl` output; `websocketUrl` locally). */
  url: string;
  /** The Cognito ID token, read before every (re)connection: `$connect` refuses any other. */
  token: () => Token | Promise<Token>;
  onMessage: (message: LiveMessage) => void;
  /** "open": pushes arrive; anything else: poll until it is "open" again. */
  onState?: (state: LiveState) => void;
  /** Delays between attempts to open again, doubling from the first up to the second (ms). */
  retryDelays?: [number, number];
  /** A WebSocket other than the global one (React Native's, a test's). */
  WebSocket?: typeof globalThis.WebSocket;
}

export interface LiveConnection {
  readonly state: LiveState;
  /** Close for good (no reconnection). */
  close(): void;
}

const KNOWN = new Set(["album.status", "process.status", "share.status"]);

export function connectLive(options: LiveOptions): LiveConnection {
  const Socket = options.WebSocket ?? globalThis.WebSocket;
  const [first, most] = options.retryDelays ?? [500, 30_000];
  let state: LiveState = "closed";
  let socket: WebSocket | undefined;
  let delay = first;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const setState = (next: LiveState) => {
    if (next === state) return;
    state = next;
    options.onState?.(next);
  };
  const retry = () => {
    setState("closed");
    if (stopped) return;
    timer = setTimeout(open, delay);
    delay = Math.min(delay * 2, most);
  };
  async function open(): Promise<void> {
    if (stopped) return;
    setState("connecting");
    let token: Token;
    try {
      token = await options.token();
    } catch {
      token = undefined;
    }
    if (!token || stopped) return retry();
    const url = new URL(options.url);
    url.searchParams.set("token", token);
    const current = new Socket(url.toString());
    socket = current;
    current.onopen = () => {
      delay = first;
      setState("open");
    };
    current.onmessage = (event: MessageEvent) => {
      let message: unknown;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return; // not ours: API Gateway's own notices are JSON too, anything else is noise
      }
      const type = (message as { type?: unknown } | null)?.type;
      if (typeof type === "string" && KNOWN.has(type)) options.onMessage(message as LiveMessage);
    };
    current.onclose = () => {
      if (socket === current) retry();
    };
  }
  void open();
  return {
    get state() {
      return state;
    },
    close() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      socket?.close();
      setState("closed");
    },
  };
}
