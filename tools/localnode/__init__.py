"""A real single-node Kubernetes cluster for the tests and the quickstart (see ``node.py``)."""
