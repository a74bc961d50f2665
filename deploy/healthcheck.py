#!/usr/bin/env python3
"""Container health probe: GET a path on the local service, exit 0 on HTTP 200.

The slim base image has no curl; this uses only the standard library. The port
is ``PORT`` or, when unset, the catalog port of ``SERVICE``.

    kumiai-healthcheck /healthz
    kumiai-healthcheck /readyz
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def port() -> int:
    if os.environ.get("PORT"):
        return int(os.environ["PORT"])
    from kumiai.catalog import service

    return service(os.environ["SERVICE"]).port


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/healthz"
    url = f"http://127.0.0.1:{port()}{path}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
