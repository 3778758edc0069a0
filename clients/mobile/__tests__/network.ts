// The one thing the tests replace: the network. `stubNetwork` installs a global fetch (the API,
// S3's presigned POST, Cognito's JSON API, config.json) and an XMLHttpRequest (the app's S3 PUTs,
// for upload progress) that answer from routes the test gives, and record every request.
// Everything between the screens and the wire is the app's real code.

export interface Sent {
  method: string;
  url: string;
  path: string;
  target?: string; // Cognito's X-Amz-Target operation
  body: any;
}

export type Answer = { status?: number; body?: unknown; headers?: Record<string, string> };
type Route = (req: Sent) => Answer | Promise<Answer>;

export const API = "http://backend.test/prod";
export const CONFIG = {
  apiUrl: `${API}/`,
  region: "us-west-2",
  userPoolId: "us-west-2_testpool",
  userPoolClientId: "testclient",
};
export const LOCAL_CONFIG = { ...CONFIG, cognitoEndpoint: "http://cognito.test" };

export function jwt(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none" })}.${part(claims)}.sig`;
}

export const ID_TOKEN = jwt({
  sub: "user-1",
  email: "ada@example.com",
  iat: Math.floor(Date.now() / 1000),
  exp: 4102444800,
});

export function apiError(status: number, code: string, message: string): Answer {
  return { status, body: { error: { code, message } } };
}

export function stubNetwork(routes: Record<string, Route | Answer>) {
  const sent: Sent[] = [];
  const answer = async (req: Sent): Promise<Answer> => {
    sent.push(req);
    const key = req.target ? `cognito ${req.target}` : `${req.method} ${req.path}`;
    const pattern = Object.keys(routes).find((k) => new RegExp(`^${k.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(key));
    if (!pattern) return { status: 599, body: { message: `no route for ${key}` } };
    const route = routes[pattern]!;
    return typeof route === "function" ? route(req) : route;
  };

  const fetchStub = jest.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(request.url);
    const text = init?.body instanceof FormData ? "" : await request.text();
    const target = request.headers.get("X-Amz-Target")?.split(".")[1];
    const body = init?.body instanceof FormData ? init.body : text ? JSON.parse(text) : undefined;
    const path = url.pathname.replace(/^\/prod/, "");
    const a = await answer({ method: request.method, url: request.url, path, target, body });
    const payload = a.body instanceof Blob ? a.body : a.body === undefined ? null : JSON.stringify(a.body);
    return new Response(payload, {
      status: a.status ?? 200,
      headers: { "Content-Type": "application/json", ...a.headers },
    });
  });
  global.fetch = fetchStub as unknown as typeof fetch;

  class FakeXHR {
    upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number }) => void) | null } = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    status = 0;
    private method = "";
    private url = "";
    private response: Answer = {};
    open(method: string, url: string) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader() {}
    getResponseHeader(name: string) {
      return this.response.headers?.[name] ?? null;
    }
    send(body: Blob) {
      const url = new URL(this.url);
      answer({ method: this.method, url: this.url, path: url.pathname, body }).then((a) => {
        this.response = a;
        this.status = a.status ?? 200;
        if (this.status === 0) {
          this.onerror?.();
          return;
        }
        this.upload.onprogress?.({ lengthComputable: true, loaded: body.size });
        this.onload?.();
      });
    }
  }
  (global as any).XMLHttpRequest = FakeXHR;

  const of = (method: string, path: RegExp | string) =>
    sent.filter((r) => r.method === method && (typeof path === "string" ? r.path === path : path.test(r.path)));
  return { sent, of, fetch: fetchStub, cognito: (target: string) => sent.filter((r) => r.target === target) };
}
