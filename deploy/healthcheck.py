"""Container health probe for both FluffyMail processes (stdlib only; the image has no curl).

    python /app/healthcheck.py [URL]

URL defaults to $HEALTHCHECK_URL, else http://127.0.0.1:${PORT:-8000}/healthz (the web
process). A worker container points it at its metrics port, e.g.
http://127.0.0.1:9100/healthz (`fluffymail worker --metrics-port 9100` or
FLUFFYMAIL_METRICS_PORT=9100). Exit status: 0 healthy (HTTP 2xx), 1 anything else, which
is what Docker's HEALTHCHECK and ECS container health checks expect.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def default_url() -> str:
    if url := os.environ.get("HEALTHCHECK_URL"):
        return url
    return f"http://127.0.0.1:{os.environ.get('PORT') or 8000}/healthz"


def probe(url: str, timeout: float = 4.0) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300, f"{url}: HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url}: HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{url}: {exc}"


def main(argv: list[str]) -> int:
    healthy, message = probe(argv[1] if len(argv) > 1 else default_url())
    print(message, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
