"""`publisher preview`: the issue's pages in a browser, on 127.0.0.1 only.

One process watches and rebuilds the PDF (publisher.watch) and serves a page that shows it as
images, page by page, with the bookmarks (column → article, as the 目录 lists them) as
navigation. The page asks for the build's state twice a second and redraws itself after each
rebuild; a broken edit shows its `path:line: message` instead of the pages it would leave stale.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from publisher.errors import BuildError
from publisher.watch import Outcome, report, watch

HOST = "127.0.0.1"
PAGE_DPI = 96


@dataclass
class Proof:
    """What the browser is shown: the last build's PDF, or the errors of a broken one."""

    version: int = 0
    errors: tuple[str, ...] = ()
    pdf: bytes = b""
    pages: list[dict] = field(default_factory=list)  # label, width and height in points
    toc: list[dict] = field(default_factory=list)  # title, level, page index
    images: dict[int, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, outcome: Outcome) -> None:
        pdf = next((f for f in outcome.files if f.suffix == ".pdf"), None)
        if pdf is not None:
            data = pdf.read_bytes()
            pages, toc = _pages_and_toc(data)
        with self.lock:
            self.version += 1
            self.errors = outcome.errors
            if pdf is not None:
                self.pdf, self.pages, self.toc, self.images = data, pages, toc, {}

    def state(self) -> dict:
        with self.lock:
            return {"version": self.version, "errors": list(self.errors),
                    "pages": self.pages if not self.errors else [],
                    "toc": self.toc if not self.errors else []}

    def image(self, version: int, index: int) -> bytes | None:
        """Page `index` as PNG, drawn on first request, if `version` is still the one shown."""
        import pypdfium2

        with self.lock:
            if version != self.version or not 0 <= index < len(self.pages):
                return None
            if index not in self.images:
                document = pypdfium2.PdfDocument(self.pdf)
                try:
                    bitmap = document[index].render(scale=PAGE_DPI / 72)
                    out = BytesIO()
                    bitmap.to_pil().save(out, "PNG")
                finally:
                    document.close()
                self.images[index] = out.getvalue()
            return self.images[index]


def _pages_and_toc(data: bytes) -> tuple[list[dict], list[dict]]:
    from pypdf import PdfReader

    reader = PdfReader(BytesIO(data))
    labels = reader.page_labels
    pages = [{"label": labels[i], "width": float(page.mediabox.width),
              "height": float(page.mediabox.height)} for i, page in enumerate(reader.pages)]
    toc = []

    def visit(items, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                visit(item, level + 1)
            else:
                toc.append({"title": item.title, "level": level,
                            "page": reader.get_destination_page_number(item)})

    visit(reader.outline, 1)
    return pages, toc


class Handler(BaseHTTPRequestHandler):
    proof: Proof  # set on the subclass that serve() makes

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        path = urlsplit(self.path).path  # a link shared or bookmarked may carry a query
        if self.headers.get("Host") not in self._own_hosts():
            # A web page whose name was made to point at 127.0.0.1 (DNS rebinding) would read
            # the unpublished pages: its browser sends that page's name as Host.
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST)
        elif path == "/":
            self._send(PAGE.encode(), "text/html; charset=utf-8")
        elif path == "/state":
            self._send(json.dumps(self.proof.state(), ensure_ascii=False).encode(),
                       "application/json")
        elif match := re.fullmatch(r"/page/(\d+)/(\d+)\.png", path):
            image = self.proof.image(int(match[1]), int(match[2]))
            if image is None:
                self.send_error(HTTPStatus.NOT_FOUND)
            else:
                self._send(image, "image/png")
        else:
            self.send_error(HTTPStatus.NOT_FOUND)

    def _own_hosts(self) -> tuple[str, ...]:
        port = self.server.server_port
        return f"{HOST}:{port}", f"localhost:{port}"

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's signature)
        pass  # a request a second is no news


def serve(root: Path, out_dir: Path | None = None, *, port: int = 8011) -> None:
    """Serve the preview on 127.0.0.1:`port` (0: any free port) until interrupted."""
    proof = Proof()
    handler = type("ProofHandler", (Handler,), {"proof": proof})
    try:
        server = ThreadingHTTPServer((HOST, port), handler)
    except (OSError, OverflowError) as exc:  # in use, or not a port number
        reason = exc.strerror if isinstance(exc, OSError) else str(exc).removeprefix("bind(): ")
        raise BuildError(f"cannot serve the preview on {HOST}:{port}: {reason}; give "
                         "another port with --port (make preview PORT=…)") from None
    stop = threading.Event()

    def rebuilt(outcome: Outcome) -> None:
        report(outcome)
        proof.update(outcome)

    builder = threading.Thread(target=watch, args=(root, out_dir), daemon=True,
                               kwargs={"on_build": rebuilt, "stop": stop, "pdf": True,
                                       "epub": False})
    builder.start()
    print(f"publisher: preview of {root} at http://{HOST}:{server.server_port}/", flush=True,
          file=sys.stdout)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stop.set()
        server.server_close()
        builder.join(5)


PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>publisher preview</title>
<style>
body { margin: 0; display: flex; font: 14px/1.5 sans-serif; background: #555; }
nav { width: 18em; height: 100vh; overflow-y: auto; position: sticky; top: 0;
      background: #f4f1ea; padding: 0.5em 0; flex: none; }
nav a { display: flex; gap: 0.5em; padding: 0.1em 0.8em; color: #222; text-decoration: none; }
nav a:hover { background: #e4dccb; }
nav a .label { margin-left: auto; color: #a22; }
nav a.level-1 { font-weight: bold; margin-top: 0.4em; }
nav a.level-2 { padding-left: 1.8em; } nav a.level-3 { padding-left: 2.8em; }
main { flex: auto; padding: 1em; }
#status { color: #eee; margin: 0 0 1em; }
#error { background: #fff0f0; color: #900; border: 2px solid #c00; padding: 1em;
         white-space: pre-wrap; font: 15px/1.5 monospace; }
#error:empty { display: none; }
#pages { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; }
figure img { display: block; background: white; width: 100%; height: auto;
             box-shadow: 0 2px 6px #0008; }
figcaption { color: #eee; text-align: center; }
</style>
</head>
<body>
<nav id="toc"></nav>
<main>
<p id="status">building…</p>
<pre id="error"></pre>
<div id="pages"></div>
</main>
<script>
let shown = -1;
function text(tag, content, attrs = {}) {
  const node = document.createElement(tag);
  node.textContent = content;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}
function draw(state) {
  document.getElementById("error").textContent = state.errors.join("\\n");
  document.getElementById("status").textContent = state.errors.length
    ? "the last edit does not build:" : `build ${state.version}: ${state.pages.length} pages`;
  const toc = document.getElementById("toc"), pages = document.getElementById("pages");
  toc.replaceChildren(...state.toc.map(entry => {
    const link = text("a", "", {href: `#page-${entry.page}`, class: `level-${entry.level}`});
    link.append(text("span", entry.title),
                text("span", state.pages[entry.page].label, {class: "label"}));
    return link;
  }));
  pages.replaceChildren(...state.pages.map((page, index) => {
    const figure = text("figure", "", {id: `page-${index}`,
                                       style: `width: ${Math.round(page.width * 0.8)}px`});
    figure.append(text("img", "", {src: `/page/${state.version}/${index}.png`,
                                   width: Math.round(page.width), loading: "lazy",
                                   height: Math.round(page.height), alt: page.label}),
                  text("figcaption", page.label));
    return figure;
  }));
}
async function poll() {
  try {
    const state = await (await fetch("/state")).json();
    if (state.version !== shown) {
      shown = state.version;
      if (state.version > 0) draw(state);
    }
  } catch (error) {
    document.getElementById("status").textContent = "the preview has stopped";
  }
  setTimeout(poll, 500);
}
poll();
</script>
</body>
</html>
"""
