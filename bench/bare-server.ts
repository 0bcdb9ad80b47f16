/**
 * The baseline: a bare `node:http` server that reads each request body and answers 200 with a small
 * JSON, nothing else. Run as its own process (`node --import tsx bench/bare-server.ts`) so it gets
 * a core of its own, like the service. Also serves as the delivery sink of scenario B; `GET /count`
 * answers how many POSTs it has seen.
 *
 * Prints one line `{"url":"http://127.0.0.1:<port>"}` on stdout once listening (`PORT`, default 0).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const answer = JSON.stringify({ status: "ok" });
let posts = 0;

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/count") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ posts }));
    return;
  }
  // Read the whole body, as any real receiver must, then answer.
  req.on("data", () => undefined);
  req.on("end", () => {
    posts++;
    res.writeHead(200, { "content-type": "application/json" }).end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
