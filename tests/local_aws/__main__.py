"""``python -m tests.local_aws serve --port N``: the server in the foreground, on
``https://127.0.0.1:N`` (its CA: ``build/local-aws-tls/ca.pem``).
``python -m tests.local_aws run -- CMD ...``: start it, run CMD against it, stop it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def serve(port: int, https: bool = True) -> None:
    from tests.local_aws import fidelity

    fidelity.install()
    from moto.server import main as moto_main

    from tests.local_aws import tls

    arguments = ["-H", "127.0.0.1", "-p", str(port)]
    if https:
        _ca, cert, key = tls.ensure_certificates()
        arguments += ["--ssl-cert", cert, "--ssl-key", key]
    moto_main(arguments)


def run(command: list[str]) -> int:
    from tests.local_aws.server import LocalAWS

    with LocalAWS() as aws:
        print(f"local AWS on {aws.endpoint}", flush=True)
        return subprocess.call(command, env=dict(os.environ, **aws.env()))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.local_aws")
    sub = parser.add_subparsers(dest="verb", required=True)
    serve_parser = sub.add_parser("serve")
    serve_parser.add_argument("--port", type=int, required=True)
    # Plain HTTP only to show what AWS refuses (aws:SecureTransport).
    serve_parser.add_argument("--insecure-http", action="store_true")
    run_parser = sub.add_parser("run")
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.verb == "serve":
        serve(args.port, https=not args.insecure_http)
    else:
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        sys.exit(run(command))


if __name__ == "__main__":
    main()
