"""`python -m roadmap_shared.healthcheck <package>`: a container's HEALTHCHECK.

Asks the stage's own `/healthz` on the port its settings say it listens on, so changing
`<PREFIX>_PORT` cannot leave a health check knocking on the wrong door. Exit 0 when healthy.
"""

import sys
import urllib.request

from roadmap_shared.preflight import load_settings


def main(package: str) -> None:
    port = load_settings(package).port
    # The URL is built from an integer port on loopback: no user input reaches it.
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            status = response.status
    except OSError as error:  # refused, timed out, or an HTTP error status
        raise SystemExit(f"/healthz on port {port}: {error}") from None
    if status != 200:
        raise SystemExit(f"/healthz on port {port} answered {status}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m roadmap_shared.healthcheck <stage package>")
    main(sys.argv[1])
