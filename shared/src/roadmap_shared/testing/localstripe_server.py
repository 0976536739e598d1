"""Runs localstripe (a stateful Stripe emulator, GPL) on 127.0.0.1 only, in memory.

Its own command (`localstripe --port N`) listens on every interface, IPv6 included, and
saves its state to /tmp/localstripe.pickle, a file every copy on the machine would share.
This entry point serves the same aiohttp app on loopback and keeps the state in memory.
Run as a separate process by `roadmap_shared.testing.localstripe.localstripe`, never
imported by application code:

    python -m roadmap_shared.testing.localstripe_server --port 8420
"""

import argparse


def main() -> None:
    # Imported here, in the separate process only: importing this module (as
    # `roadmap_shared.testing.localstripe` does, to name it) loads nothing of localstripe.
    from aiohttp import web  # noqa: PLC0415
    from localstripe import resources, server  # noqa: PLC0415

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    # In memory only: nothing read from or written to the shared pickle file.
    resources.Store.dump_to_disk = lambda self: None
    web.run_app(server.app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
