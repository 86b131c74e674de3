"""``python -m aethel.node run --home DIR``: the node command without the ``aethel`` script."""

from aethel.node.cli import node_app

node_app(prog_name="aethel node")
