"""A real single-node Kubernetes cluster for the tests and for trying the collection.

Usage::

    python tools/local_node.py build          # build and cache every binary and image (~/.cache)
    python tools/local_node.py up     [DIR]   # start the node; kubeconfigs land in DIR
    python tools/local_node.py status [DIR]   # the node, its Pods and what runs
    python tools/local_node.py down   [DIR]   # stop it and put the machine back as it was
    python tools/local_node.py env    [DIR]   # print `export KUBECONFIG=...`

DIR defaults to ``.local-node``. ``up`` writes ``DIR/admin.kubeconfig`` (system:masters) and
``DIR/user.kubeconfig`` (an authenticated user with no permissions, for RBAC tests). What runs
and why, and the facts of this VM it works around: ``tools/localnode/node.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from localnode.build import build_all  # noqa: E402
from localnode.gobuild import BuildError, log  # noqa: E402
from localnode.kubernetes import KUBERNETES_VERSION  # noqa: E402
from localnode.node import LocalNode, NodeError, leftovers  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build and cache every binary and image the node runs")
    for command, text in (
        ("up", "start"),
        ("down", "stop and clean up"),
        ("status", "show"),
        ("env", "print shell exports for"),
    ):
        cmd = sub.add_parser(command, help=f"{text} the node whose state lives in DIR")
        cmd.add_argument("dir", nargs="?", default=os.environ.get("OTEL_K8S_DIR", ".local-node"))
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            artifacts = build_all()
            print(artifacts["kubernetes"])
        elif args.command == "up":
            node = LocalNode(args.dir).start()
            log(f"Kubernetes v{KUBERNETES_VERSION}; admin kubeconfig {node.admin_kubeconfig}")
            print(f"export KUBECONFIG={node.admin_kubeconfig}")
        elif args.command == "down":
            LocalNode(args.dir).stop()
            left = leftovers(args.dir)
            if left:
                log("left behind: " + "; ".join(left))
                return 1
        elif args.command == "status":
            node = LocalNode(args.dir)
            if not node.running():
                print(f"no node is running from {node.dir}")
                return 1
            print(node.kubectl_run("get", "nodes,pods", "-A", "-o", "wide").stdout)
        elif args.command == "env":
            print(f"export KUBECONFIG={LocalNode(args.dir).admin_kubeconfig}")
    except (NodeError, BuildError) as error:
        log(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
