"""The HTTP service of {{module}}.

On the standard library only.

Routes answer JSON: ``GET /health`` says the service is up (what a container
health check and a load balancer ask), ``GET /`` says what it is. Add routes
to ``ROUTES``.
"""

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata

from . import __version__


def description() -> str:
    """The package's one-line summary, from its metadata (pyproject.toml)."""
    try:
        return metadata.metadata("{{slug}}")["Summary"] or ""
    except metadata.PackageNotFoundError:
        return ""


def health() -> dict:
    return {"status": "ok"}


def about() -> dict:
    return {
        "name": "{{slug}}",
        "version": __version__,
        "description": description(),
    }


ROUTES = {"/health": health, "/": about}


class Handler(BaseHTTPRequestHandler):
    server_version = "{{slug}}/" + __version__

    def do_GET(self):
        route = ROUTES.get(self.path.split("?", 1)[0])
        if route is None:
            self.answer(404, {"error": "not found", "path": self.path})
        else:
            self.answer(200, route())

    def answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))


def make_server(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server bound to HOST:PORT (port 0: any free port), not yet serving."""
    return ThreadingHTTPServer((host, port), Handler)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="{{slug}}",
        description=description(),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port)
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
